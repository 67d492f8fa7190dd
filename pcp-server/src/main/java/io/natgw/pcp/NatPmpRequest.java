package io.natgw.pcp;

import io.natgw.conf.Protocol;

import java.util.Arrays;
import java.util.HexFormat;

/** A decoded NAT-PMP datagram (RFC 6886 §3). */
public sealed interface NatPmpRequest {

    /** Opcode 0: what is the external address? */
    record ExternalAddress() implements NatPmpRequest {
    }

    /**
     * Opcode 1 (UDP) or 2 (TCP). Lifetime 0 deletes (RFC 6886 §3.4); internal port 0 with lifetime 0 deletes
     * all of the client's mappings of that protocol.
     *
     * @param lifetime requested seconds, unsigned 32 bits
     */
    record Map(Protocol protocol, int internalPort, int suggestedExternalPort, long lifetime) implements NatPmpRequest {
    }

    /** An opcode below 128 this server does not implement: echoed with result 5 (RFC 6886 §3.5). */
    record Unsupported(int opcode, byte[] raw) implements NatPmpRequest {
        public Unsupported {
            raw = raw.clone();
        }

        @Override
        public byte[] raw() {
            return raw.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Unsupported u && u.opcode == opcode && Arrays.equals(u.raw, raw);
        }

        @Override
        public int hashCode() {
            return 31 * opcode + Arrays.hashCode(raw);
        }

        @Override
        public String toString() {
            return "Unsupported[opcode=" + opcode + ", raw=" + HexFormat.of().formatHex(raw) + "]";
        }
    }

    /** Opcode 128 or above: a response, which a server silently ignores (RFC 6886 §3.5). */
    record NotARequest(int opcode) implements NatPmpRequest {
    }
}
