package io.natgw.pcp;

/** PCP opcodes this server implements (RFC 6887 §14, §11, §12), the wire value on each constant. */
public enum PcpOpcode {
    ANNOUNCE(0, 0),
    MAP(1, 36),
    PEER(2, 56);

    private final int wire;
    private final int dataLength;

    PcpOpcode(int wire, int dataLength) {
        this.wire = wire;
        this.dataLength = dataLength;
    }

    public int wire() {
        return wire;
    }

    /** Octets of opcode-specific data after the 24-octet common header. */
    public int dataLength() {
        return dataLength;
    }

    /** The opcode with this wire value, or null when this server does not implement it. */
    public static PcpOpcode of(int wire) {
        for (PcpOpcode o : values()) {
            if (o.wire == wire) {
                return o;
            }
        }
        return null;
    }
}
