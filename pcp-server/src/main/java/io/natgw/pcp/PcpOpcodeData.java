package io.natgw.pcp;

import java.net.InetAddress;
import java.util.Objects;

/**
 * The opcode-specific part of a PCP request or response. In a request the external port and address are
 * the suggested ones; in a response the assigned ones.
 */
public sealed interface PcpOpcodeData {

    /** ANNOUNCE (RFC 6887 §14.1) has no opcode-specific data. */
    record Announce() implements PcpOpcodeData {
    }

    /**
     * MAP (RFC 6887 §11.1), 36 octets: nonce (96), protocol (8), reserved (24), internal port (16),
     * external port (16), external address (128).
     *
     * @param protocol IANA protocol number; 0 = all protocols
     */
    record MapData(PcpNonce nonce, int protocol, int internalPort, int externalPort, InetAddress externalAddress)
            implements PcpOpcodeData {
        public MapData {
            Objects.requireNonNull(nonce, "nonce");
            Objects.requireNonNull(externalAddress, "externalAddress");
        }
    }

    /**
     * PEER (RFC 6887 §12.1), 56 octets: the MAP fields, then remote peer port (16), reserved (16), remote peer
     * address (128).
     */
    record PeerData(PcpNonce nonce, int protocol, int internalPort, int externalPort, InetAddress externalAddress,
                    int remotePort, InetAddress remoteAddress) implements PcpOpcodeData {
        public PeerData {
            Objects.requireNonNull(nonce, "nonce");
            Objects.requireNonNull(externalAddress, "externalAddress");
            Objects.requireNonNull(remoteAddress, "remoteAddress");
        }
    }
}
