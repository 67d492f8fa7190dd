package io.natgw.pcp;

/** PCP result codes (RFC 6887 §7.4), the wire value on each constant. */
public enum PcpResultCode {
    SUCCESS(0, false),
    UNSUPP_VERSION(1, true),
    NOT_AUTHORIZED(2, true),
    MALFORMED_REQUEST(3, true),
    UNSUPP_OPCODE(4, true),
    UNSUPP_OPTION(5, true),
    MALFORMED_OPTION(6, true),
    NETWORK_FAILURE(7, false),
    NO_RESOURCES(8, false),
    UNSUPP_PROTOCOL(9, true),
    USER_EX_QUOTA(10, false),
    CANNOT_PROVIDE_EXTERNAL(11, false),
    ADDRESS_MISMATCH(12, true),
    EXCESSIVE_REMOTE_PEERS(13, true);

    /** RFC 6887 §15: a long-lifetime error is repeated for 30 minutes, a short one for 30 seconds. */
    public static final long LONG_ERROR_LIFETIME = 1800;
    public static final long SHORT_ERROR_LIFETIME = 30;

    private final int wire;
    private final boolean longLived;

    PcpResultCode(int wire, boolean longLived) {
        this.wire = wire;
        this.longLived = longLived;
    }

    public int wire() {
        return wire;
    }

    /** The Lifetime an error response carries: how long the client should expect the same answer. */
    public long errorLifetime() {
        return longLived ? LONG_ERROR_LIFETIME : SHORT_ERROR_LIFETIME;
    }

    /** The code with this wire value, or null for a value RFC 6887 does not define. */
    public static PcpResultCode of(int wire) {
        for (PcpResultCode c : values()) {
            if (c.wire == wire) {
                return c;
            }
        }
        return null;
    }
}
