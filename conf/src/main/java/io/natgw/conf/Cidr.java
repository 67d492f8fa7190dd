package io.natgw.conf;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An address block such as {@code 192.168.77.0/24}; a bare address is a /32 (or /128). */
public record Cidr(InetAddress network, int prefixLength) {

    public Cidr {
        int max = network.getAddress().length * 8;
        if (prefixLength < 0 || prefixLength > max) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " is out of range (accepted: 0-" + max + ")");
        }
        network = masked(network, prefixLength);
    }

    public static Cidr of(InetAddress host) {
        return new Cidr(host, host.getAddress().length * 8);
    }

    /** Parses {@code a.b.c.d/n} or a literal address; host names are never resolved. */
    public static Cidr parse(String text) {
        String t = text == null ? "" : text.trim();
        int slash = t.indexOf('/');
        String addr = slash < 0 ? t : t.substring(0, slash);
        InetAddress address = Addresses.parseLiteral(addr);
        int max = address.getAddress().length * 8;
        int prefix = max;
        if (slash >= 0) {
            String p = t.substring(slash + 1);
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9') || Integer.parseInt(p) > max) {
                throw new IllegalArgumentException("'" + text + "' is not a CIDR block (accepted: address/0-" + max
                        + ", e.g. 192.168.77.0/24)");
            }
            prefix = Integer.parseInt(p);
        }
        return new Cidr(address, prefix);
    }

    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        byte[] n = network.getAddress();
        if (a.length != n.length) {
            return false;
        }
        return java.util.Arrays.equals(masked(a, prefixLength), n);
    }

    private static InetAddress masked(InetAddress address, int prefix) {
        try {
            return InetAddress.getByAddress(masked(address.getAddress(), prefix));
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] masked(byte[] bytes, int prefix) {
        byte[] out = bytes.clone();
        for (int i = 0; i < out.length; i++) {
            int bits = Math.max(0, Math.min(8, prefix - i * 8));
            out[i] = (byte) (out[i] & (0xff << (8 - bits)));
        }
        return out;
    }

    /**
     * Written out: a record's generated equals and hashCode run through method handles, which C1 does not inline, and
     * the table counts each client's subnet in a map keyed by its block on every add and delete. The record's own
     * equality (core's {@code WrittenOutEqualityTest} holds it to that).
     */
    @Override
    public boolean equals(Object o) {
        return this == o || o instanceof Cidr c && prefixLength == c.prefixLength && network.equals(c.network);
    }

    @Override
    public int hashCode() {
        return network.hashCode() * 31 + prefixLength;
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefixLength;
    }
}
