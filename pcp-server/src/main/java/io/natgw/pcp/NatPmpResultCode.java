package io.natgw.pcp;

/** NAT-PMP result codes (RFC 6886 §3.5), the wire value on each constant. */
public enum NatPmpResultCode {
    SUCCESS(0),
    UNSUPPORTED_VERSION(1),
    /** Not authorized/refused: the box supports mapping but policy says no. */
    NOT_AUTHORIZED(2),
    /** Network failure, e.g. the gateway has no external address. */
    NETWORK_FAILURE(3),
    /** Out of resources: no more mappings can be created. */
    OUT_OF_RESOURCES(4),
    UNSUPPORTED_OPCODE(5);

    private final int wire;

    NatPmpResultCode(int wire) {
        this.wire = wire;
    }

    public int wire() {
        return wire;
    }

    /** The code with this wire value, or null for a value RFC 6886 does not define. */
    public static NatPmpResultCode of(int wire) {
        for (NatPmpResultCode c : values()) {
            if (c.wire == wire) {
                return c;
            }
        }
        return null;
    }
}
