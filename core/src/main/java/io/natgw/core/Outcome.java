package io.natgw.core;

import java.util.List;

/** What the table answered. Each front-end maps these to its own codes (718, CANNOT_PROVIDE_EXTERNAL, result 2 …). */
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
        UNAVAILABLE
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
