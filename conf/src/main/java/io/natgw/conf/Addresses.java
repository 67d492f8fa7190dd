package io.natgw.conf;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collections;

/** Literal IP address parsing (never DNS) and the host's address discovery for {@code wan.address: auto}. */
public final class Addresses {

    private Addresses() {
    }

    /** Parses an IPv4 or IPv6 literal; a host name is rejected, never resolved. */
    public static InetAddress parseLiteral(String text) {
        String t = text == null ? "" : text.trim();
        boolean v4 = t.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        boolean v6 = t.contains(":") && t.matches("[0-9A-Fa-f:.]+");
        if (v4) {
            for (String octet : t.split("\\.")) {
                if (Integer.parseInt(octet) > 255) {
                    v4 = false;
                }
            }
        }
        if (!v4 && !v6) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address literal (accepted: IPv4 or IPv6 literals such as 192.168.77.1 or ::1;"
                + " host names are never resolved)");
        }
        try {
            return InetAddress.getByName(t);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address literal (accepted: IPv4 or IPv6 literals such as 192.168.77.1 or ::1;"
                + " host names are never resolved)");
        }
    }

    /** The host's first non-loopback IPv4 address of an interface that is up, else 127.0.0.1. */
    public static InetAddress firstNonLoopbackIpv4() {
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nif.isUp() || nif.isLoopback()) {
                    continue;
                }
                for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                    if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
                        return a;
                    }
                }
            }
        } catch (SocketException e) {
            // fall through to loopback: the documented fallback of 'auto'
        }
        return InetAddress.getLoopbackAddress();
    }

    /** The first IPv4 address of interface {@code name} (up) that is not loopback or link-local and passes {@code ok}. */
    public static java.util.Optional<InetAddress> firstIpv4Of(String name, java.util.function.Predicate<InetAddress> ok) {
        try {
            NetworkInterface nif = NetworkInterface.getByName(name);
            if (nif == null || !nif.isUp()) {
                return java.util.Optional.empty();
            }
            return Collections.list(nif.getInetAddresses()).stream().filter(a -> a instanceof Inet4Address)
                    .filter(a -> !a.isLoopbackAddress() && !a.isLinkLocalAddress()).filter(ok).findFirst();
        } catch (SocketException e) {
            return java.util.Optional.empty();
        }
    }

    /**
     * The kind of non-public address {@code a} is, as miniupnpd's {@code addr_is_reserved} would refuse it
     * for an external address: loopback, private (RFC 1918, IPv6 ULA fc00::/7), CGNAT shared space
     * (RFC 6598, 100.64.0.0/10), link-local, unspecified. Empty for any other address; the documentation
     * blocks (e.g. 203.0.113.0/24) count as public, as test networks use them for the WAN.
     */
    public static java.util.Optional<String> notPublic(InetAddress a) {
        byte[] b = a.getAddress();
        String kind = null;
        if (a.isAnyLocalAddress()) {
            kind = "unspecified";
        } else if (a.isLoopbackAddress()) {
            kind = "loopback";
        } else if (a.isLinkLocalAddress()) {
            kind = "link-local";
        } else if (a instanceof Inet4Address && (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64) {
            kind = "CGNAT shared address space (RFC 6598, 100.64.0.0/10)";
        } else if (a instanceof Inet4Address && a.isSiteLocalAddress()) {
            kind = "private (RFC 1918)";
        } else if (!(a instanceof Inet4Address) && (b[0] & 0xfe) == 0xfc) {
            kind = "private (unique local, fc00::/7)";
        }
        return java.util.Optional.ofNullable(kind);
    }
}
