package io.natgw.core;

import java.util.List;

/**
 * What the table answered. Each front-end maps these to its own codes (718, CANNOT_PROVIDE_EXTERNAL, result 2 …).
 * Pinholes are refused with the same reasons as mappings (CONFLICT: another owner's pinhole on the same host, port
 * and overlapping filter; NO_RESOURCES: the table is full or all 65535 pinhole ids are live, IGD:2 701
 * PinholeSpaceExhausted), plus three of their own: {@link Reason#PINHOLES_DISABLED},
 * {@link Reason#INTERNAL_PORT_WILDCARD}, {@link Reason#BAD_INTERNAL_ADDRESS}. A wildcard protocol (IGD:2 707
 * ProtocolWildcardingNotAllowed) never reaches the table: a request names TCP or UDP, so the front-end refuses it.
 */
public sealed interface Outcome {

    /** Why a request was refused. */
    enum Reason {
        /** The external port is held by another owner and no alternative was wanted. */
        CONFLICT,
        /** Ownership, secure mode, permission rules, third-party or nonce check failed. */
        NOT_AUTHORIZED,
        /** No port could be found or bound; the table or the gateway is full. */
        NO_RESOURCES,
        /** The requesting client holds its quota of mappings already. */
        QUOTA_EXCEEDED,
        /** The request itself is malformed (port 0 where one is needed, range reversed …). */
        INVALID,
        /** No such mapping. */
        NOT_FOUND,
        /** The change could not be made durable (journal I/O failed); nothing was applied. */
        UNAVAILABLE,
        /**
         * A pinhole (a request with an IPv6 internal address) was asked for, but the dataplane does not forward
         * pinholes: only linux-gateway mode with kernel forwarding does ({@link Forwarder#forwardsPinholes()}).
         * IGD:2 WANIPv6FirewallControl answers 702 FirewallDisabled.
         */
        PINHOLES_DISABLED,
        /**
         * A pinhole's internal port is 0, a wildcard (IGD:2 706 InternalPortWildcardingNotAllowed). A NAT mapping's
         * internal port 0 stays {@link #INVALID}.
         */
        INTERNAL_PORT_WILDCARD,
        /**
         * A pinhole's internal IPv6 address is not one a pinhole may open to: IPv4-mapped (::ffff:0:0/96), link-local
         * (fe80::/10), multicast, loopback or unspecified (IGD:2 402 Invalid Args; PCP MALFORMED_REQUEST or
         * ADDRESS_MISMATCH as the PCP front-end documents).
         */
        BAD_INTERNAL_ADDRESS
    }

    /** A mapping was created ({@code refreshed} false) or an existing one of the requester's refreshed or changed. */
    record Granted(Mapping mapping, boolean refreshed) implements Outcome {
    }

    /** Mappings were removed (possibly none, for requests that delete a set). */
    record Deleted(List<Mapping> removed) implements Outcome {
        public Deleted {
            removed = List.copyOf(removed);
        }
    }

    /** A request that changes no mapping (external address) was applied. */
    record Done() implements Outcome {
    }

    record Refused(Reason reason, String detail) implements Outcome {
    }
}
