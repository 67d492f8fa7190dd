package io.natgw.gateway.wan;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The STUN Binding request and the address in its success response (RFC 5389). Bytes in, records out: no
 * socket, no clock, no randomness (the transaction id is given). A minimal codec of its own rather than a
 * library: no maintained Java STUN client on Maven Central fits a one-request, no-auth use (ice4j pulls a whole
 * ICE stack).
 */
public final class StunCodec {

    /** RFC 5389 §6: the magic cookie in octets 4-7 of every message. */
    static final int MAGIC_COOKIE = 0x2112A442;
    static final int BINDING_REQUEST = 0x0001;
    static final int BINDING_SUCCESS = 0x0101;
    static final int MAPPED_ADDRESS = 0x0001;
    static final int XOR_MAPPED_ADDRESS = 0x0020;
    static final int HEADER = 20;

    private StunCodec() {
    }

    /** A Binding request: type, length 0, magic cookie, the 12-octet transaction id. */
    public static byte[] bindingRequest(byte[] transactionId) {
        if (transactionId.length != 12) {
            throw new IllegalArgumentException("a transaction id has 12 octets, not " + transactionId.length);
        }
        return ByteBuffer.allocate(HEADER).putShort((short) BINDING_REQUEST).putShort((short) 0).putInt(MAGIC_COOKIE)
                .put(transactionId).array();
    }

    /**
     * The reflexive address of a Binding success response to {@code transactionId}: XOR-MAPPED-ADDRESS, else
     * MAPPED-ADDRESS (RFC 3489 servers).
     *
     * @throws IllegalArgumentException naming what was expected, for anything else
     */
    public static InetSocketAddress mappedAddress(byte[] message, byte[] transactionId) {
        ByteBuffer b = ByteBuffer.wrap(message);
        if (message.length < HEADER) {
            throw new IllegalArgumentException("a STUN message of " + message.length + " octets (expected: 20+)");
        }
        int type = b.getShort(0) & 0xffff;
        int length = b.getShort(2) & 0xffff;
        if (b.getInt(4) != MAGIC_COOKIE) {
            throw new IllegalArgumentException("no STUN magic cookie (expected: 0x2112a442)");
        }
        if (!Arrays.equals(Arrays.copyOfRange(message, 8, HEADER), transactionId)) {
            throw new IllegalArgumentException("another transaction's response");
        }
        if (type != BINDING_SUCCESS) {
            throw new IllegalArgumentException(String.format("message type 0x%04x (expected: 0x0101, Binding success)", type));
        }
        if (length != message.length - HEADER || length % 4 != 0) {
            throw new IllegalArgumentException("length " + length + " for " + (message.length - HEADER)
                    + " octets of attributes (expected: equal, a multiple of 4)");
        }
        InetSocketAddress plain = null;
        int p = HEADER;
        while (p + 4 <= message.length) {
            int attr = b.getShort(p) & 0xffff;
            int len = b.getShort(p + 2) & 0xffff;
            if (p + 4 + len > message.length) {
                throw new IllegalArgumentException("attribute 0x" + Integer.toHexString(attr) + " overruns the message");
            }
            if (attr == XOR_MAPPED_ADDRESS) {
                return address(message, p + 4, len, true);
            }
            if (attr == MAPPED_ADDRESS && plain == null) {
                plain = address(message, p + 4, len, false);
            }
            p += 4 + ((len + 3) & ~3);
        }
        if (plain == null) {
            throw new IllegalArgumentException("no XOR-MAPPED-ADDRESS or MAPPED-ADDRESS attribute");
        }
        return plain;
    }

    /** RFC 5389 §15.1/15.2: reserved, family (1 IPv4, 2 IPv6), port, address; XORed with the cookie and id. */
    private static InetSocketAddress address(byte[] m, int at, int len, boolean xor) {
        int family = m[at + 1] & 0xff;
        int size = family == 1 ? 4 : family == 2 ? 16 : -1;
        if (size < 0 || len != 4 + size) {
            throw new IllegalArgumentException("address family " + family + " of " + len + " octets (expected: 1 with 8, 2 with 20)");
        }
        int port = ((m[at + 2] & 0xff) << 8) | (m[at + 3] & 0xff);
        byte[] a = Arrays.copyOfRange(m, at + 4, at + 4 + size);
        if (xor) {
            port ^= MAGIC_COOKIE >>> 16;
            for (int i = 0; i < size; i++) {
                a[i] ^= m[4 + i]; // the cookie, then the transaction id (octets 4-19 of the header)
            }
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(a), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("address of " + size + " octets", e);
        }
    }
}
