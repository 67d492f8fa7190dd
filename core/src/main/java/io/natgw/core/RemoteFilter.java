package io.natgw.core;

import java.net.InetAddress;
import java.util.Arrays;

/**
 * Which remote peers a mapping admits: UPnP's RemoteHost, PCP's FILTER (RFC 6887 §13.3) or PEER.
 * {@link #ANY} admits everyone. {@code port} 0 means any remote port.
 */
public record RemoteFilter(InetAddress address, int prefixLength, int port) {

    /** Admits every remote peer. */
    public static final RemoteFilter ANY = new RemoteFilter(null, 0, 0);

    public RemoteFilter {
        if (address == null) {
            if (prefixLength != 0) {
                throw new IllegalArgumentException("a wildcard filter has prefix length 0");
            }
        } else {
            int max = address.getAddress().length * 8;
            if (prefixLength < 0 || prefixLength > max) {
                throw new IllegalArgumentException("prefix length " + prefixLength + " is out of range (accepted: 0-" + max + ")");
            }
            if (prefixLength == 0) {
                address = null; // a /0 filter admits every address: the same as no filter
            }
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("remote port " + port + " is out of range (accepted: 0-65535)");
        }
    }

    /** Exactly one remote host, any port (UPnP RemoteHost). */
    public static RemoteFilter host(InetAddress address) {
        return new RemoteFilter(address, address.getAddress().length * 8, 0);
    }

    public boolean isAny() {
        return address == null && port == 0;
    }

    public boolean admits(InetAddress remote, int remotePort) {
        if (port != 0 && port != remotePort) {
            return false;
        }
        if (address == null) {
            return true;
        }
        byte[] a = remote.getAddress();
        byte[] n = address.getAddress();
        return a.length == n.length && prefixEquals(a, n, prefixLength);
    }

    /** Whether some peer is admitted by both filters (two mappings with overlapping filters share a key). */
    public boolean overlaps(RemoteFilter other) {
        if (port != 0 && other.port != 0 && port != other.port) {
            return false;
        }
        if (address == null || other.address == null) {
            return true;
        }
        byte[] a = address.getAddress();
        byte[] b = other.address.getAddress();
        return a.length == b.length && prefixEquals(a, b, Math.min(prefixLength, other.prefixLength));
    }

    private static boolean prefixEquals(byte[] a, byte[] b, int bits) {
        for (int i = 0; i < a.length && bits > 0; i++, bits -= 8) {
            int mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
            if ((a[i] & mask) != (b[i] & mask)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RemoteFilter f && prefixLength == f.prefixLength && port == f.port
                && (address == null ? f.address == null : f.address != null && Arrays.equals(address.getAddress(), f.address.getAddress()));
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (address == null ? 0 : Arrays.hashCode(address.getAddress())) + prefixLength) + port;
    }

    @Override
    public String toString() {
        if (isAny()) {
            return "*";
        }
        String a = address == null ? "*" : address.getHostAddress() + "/" + prefixLength;
        return port == 0 ? a : a + " port " + port;
    }
}
