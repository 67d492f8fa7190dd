package io.natgw.pcp;

import java.nio.ByteBuffer;
import java.util.Arrays;

/** Literal datagrams written as octets, and slicing helpers for boundary tests. */
final class Bytes {

    private Bytes() {
    }

    /** Octets 0-255 written as ints, so vectors read like the RFC diagrams. */
    static byte[] of(int... octets) {
        byte[] out = new byte[octets.length];
        for (int i = 0; i < octets.length; i++) {
            if (octets[i] < 0 || octets[i] > 255) {
                throw new IllegalArgumentException("octet " + octets[i] + " at " + i);
            }
            out[i] = (byte) octets[i];
        }
        return out;
    }

    static byte[] concat(byte[]... parts) {
        int n = Arrays.stream(parts).mapToInt(p -> p.length).sum();
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    static byte[] cut(byte[] bytes, int length) {
        return Arrays.copyOf(bytes, length);
    }

    static ByteBuffer buf(byte[] bytes) {
        return ByteBuffer.wrap(bytes);
    }
}
