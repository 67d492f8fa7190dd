package io.natgw.igd;

import io.natgw.core.Outcome;
import org.jupnp.model.action.ActionException;

/**
 * The UPnP errors the IGD answers with (UDA 1.1 §3.2.2, the WANIPConnection:2 spec §2.5 and the
 * WANIPv6FirewallControl:1 spec §2.4); the wire code lives on the constant.
 */
enum UpnpError {
    INVALID_ACTION(401, "Invalid Action"),
    INVALID_ARGS(402, "Invalid Args"),
    ACTION_FAILED(501, "Action Failed"),
    NOT_AUTHORIZED(606, "Action not authorized"),
    SPECIFIED_ARRAY_INDEX_INVALID(713, "SpecifiedArrayIndexInvalid"),
    NO_SUCH_ENTRY_IN_ARRAY(714, "NoSuchEntryInArray"),
    WILDCARD_NOT_PERMITTED_IN_EXT_PORT(716, "WildCardNotPermittedInExtPort"),
    CONFLICT_IN_MAPPING_ENTRY(718, "ConflictInMappingEntry"),
    NO_PORT_MAPS_AVAILABLE(728, "NoPortMapsAvailable"),
    PORT_MAPPING_NOT_FOUND(730, "PortMappingNotFound"),
    READ_ONLY(731, "ReadOnly"),
    INCONSISTENT_PARAMETERS(733, "InconsistentParameters"),
    // WANIPv6FirewallControl:1
    PINHOLE_SPACE_EXHAUSTED(701, "PinholeSpaceExhausted"),
    FIREWALL_DISABLED(702, "FirewallDisabled"),
    INBOUND_PINHOLE_NOT_ALLOWED(703, "InboundPinholeNotAllowed"),
    NO_SUCH_ENTRY(704, "NoSuchEntry"),
    PROTOCOL_NOT_SUPPORTED(705, "ProtocolNotSupported"),
    INTERNAL_PORT_WILDCARDING_NOT_ALLOWED(706, "InternalPortWildcardingNotAllowed"),
    PROTOCOL_WILDCARDING_NOT_ALLOWED(707, "ProtocolWildcardingNotAllowed"),
    WILDCARD_NOT_PERMITTED_IN_SRC_IP(708, "WildCardNotPermittedInSrcIP"),
    NO_PACKET_SENT(709, "NoPacketSent");

    private final int code;
    private final String description;

    UpnpError(int code, String description) {
        this.code = code;
        this.description = description;
    }

    int code() {
        return code;
    }

    /** The fault to throw from an action; {@code detail} goes to the debug log, the client sees the spec's description. */
    ActionException fault(String detail) {
        return new IgdFault(this, detail);
    }

    /** The UPnP error for a refusal of the table. */
    static UpnpError of(Outcome.Reason reason) {
        return switch (reason) {
            case CONFLICT -> CONFLICT_IN_MAPPING_ENTRY;
            case NOT_AUTHORIZED -> NOT_AUTHORIZED;
            case NO_RESOURCES, QUOTA_EXCEEDED -> NO_PORT_MAPS_AVAILABLE;
            case INVALID, INTERNAL_PORT_WILDCARD, BAD_INTERNAL_ADDRESS -> INVALID_ARGS;
            case PINHOLES_DISABLED -> ACTION_FAILED;
            case NOT_FOUND -> NO_SUCH_ENTRY_IN_ARRAY;
            case UNAVAILABLE -> ACTION_FAILED;
        };
    }

    /**
     * The WANIPv6FirewallControl:1 error for a refusal of a pinhole request. CONFLICT is another owner's pinhole
     * on the same host, port and filter: the caller may not change it (606).
     */
    static UpnpError ofPinhole(Outcome.Reason reason) {
        return switch (reason) {
            case CONFLICT, NOT_AUTHORIZED -> NOT_AUTHORIZED;
            case NO_RESOURCES, QUOTA_EXCEEDED -> PINHOLE_SPACE_EXHAUSTED;
            case PINHOLES_DISABLED -> FIREWALL_DISABLED;
            case INTERNAL_PORT_WILDCARD -> INTERNAL_PORT_WILDCARDING_NOT_ALLOWED;
            case INVALID, BAD_INTERNAL_ADDRESS -> INVALID_ARGS;
            case NOT_FOUND -> NO_SUCH_ENTRY;
            case UNAVAILABLE -> ACTION_FAILED;
        };
    }

    /** An action's UPnP error: what the client sees plus the detail for our log. */
    static final class IgdFault extends ActionException {
        private static final long serialVersionUID = 1L;
        private final transient UpnpError error;
        private final String detail;

        IgdFault(UpnpError error, String detail) {
            super(error.code, error.description);
            this.error = error;
            this.detail = detail;
        }

        UpnpError error() {
            return error;
        }

        String detail() {
            return detail;
        }
    }
}
