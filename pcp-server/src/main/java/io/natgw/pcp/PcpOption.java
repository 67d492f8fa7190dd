package io.natgw.pcp;

import java.net.InetAddress;
import java.util.Objects;

/** The PCP options this server understands (RFC 6887 §13, RFC 7220). Unknown optional options are skipped. */
public sealed interface PcpOption {

    /** The option code on the wire; below 128 is mandatory to process. */
    int code();

    int CODE_THIRD_PARTY = 1;
    int CODE_PREFER_FAILURE = 2;
    int CODE_FILTER = 3;
    int CODE_DESCRIPTION = 128;

    /** RFC 6887 §13.1: map for this internal address instead of the sender's. 16 octets: the address. */
    record ThirdParty(InetAddress internalAddress) implements PcpOption {
        public ThirdParty {
            Objects.requireNonNull(internalAddress, "internalAddress");
        }

        @Override
        public int code() {
            return CODE_THIRD_PARTY;
        }
    }

    /** RFC 6887 §13.2: refuse rather than grant another external port than the suggested one. No data. */
    record PreferFailure() implements PcpOption {
        @Override
        public int code() {
            return CODE_PREFER_FAILURE;
        }
    }

    /**
     * RFC 6887 §13.3: admit only these remote peers. 20 octets: reserved (8), prefix length (8), remote peer
     * port (16, 0 = all), remote peer address (128).
     *
     * @param prefixLength as on the wire: bits of the 128-bit (possibly IPv4-mapped) address, so 96-128 for
     *                     IPv4; 0 means "remove all filters"
     */
    record Filter(int prefixLength, int remotePort, InetAddress remoteAddress) implements PcpOption {
        public Filter {
            Objects.requireNonNull(remoteAddress, "remoteAddress");
        }

        @Override
        public int code() {
            return CODE_FILTER;
        }
    }

    /** RFC 7220: free text for the mapping, UTF-8. */
    record Description(String text) implements PcpOption {
        public Description {
            Objects.requireNonNull(text, "text");
        }

        @Override
        public int code() {
            return CODE_DESCRIPTION;
        }
    }
}
