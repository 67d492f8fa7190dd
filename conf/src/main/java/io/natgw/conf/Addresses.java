package io.natgw.conf;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.regex.Pattern;

/** Literal IP address parsing (never DNS) and the host's address discovery for {@code wan.address: auto}. */
public final class Addresses {

    /** Compiled once: parseLiteral runs on request paths (String.matches compiles per call). */
    private static final Pattern DOTTED_QUAD = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern V6_CHARACTERS = Pattern.compile("[0-9A-Fa-f:.]+");

    private Addresses() {
    }

    /** Parses an IPv4 or IPv6 literal; a host name is rejected, never resolved. */
    public static InetAddress parseLiteral(String text) {
        String t = text == null ? "" : text.trim();
        boolean v4 = DOTTED_QUAD.matcher(t).matches();
        boolean v6 = t.contains(":") && V6_CHARACTERS.matcher(t).matches();
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

    /**
     * A LAN address to listen on ({@code network.lan.addresses}): an IPv4 literal, or an IPv6 one. An IPv6
     * link-local address needs its zone, the LAN interface it is on ({@code fe80::1%eth1}), which must exist here;
     * only a link-local address takes a zone. Multicast, unspecified and IPv4-mapped addresses are refused (a
     * mapped one is written as IPv4).
     */
    public static InetAddress parseLanAddress(String text) {
        String t = text == null ? "" : text.trim();
        int percent = t.indexOf('%');
        String zone = percent < 0 ? null : t.substring(percent + 1);
        InetAddress a = parseLiteral(percent < 0 ? t : t.substring(0, percent));
        String accepted = " (accepted: an IPv4 or IPv6 unicast address such as 192.168.77.1 or fd00:77::1; an IPv6"
                + " link-local one with its interface, such as fe80::1%eth1)";
        if (t.contains(":") && a instanceof Inet4Address) {
            throw new IllegalArgumentException("'" + text + "' is an IPv4-mapped IPv6 address; write it as "
                    + a.getHostAddress() + accepted);
        }
        if (a.isMulticastAddress() || a.isAnyLocalAddress()) {
            throw new IllegalArgumentException("'" + text + "' is " + (a.isMulticastAddress() ? "multicast" : "unspecified")
                    + ", not an address of this host" + accepted);
        }
        boolean linkLocal6 = !(a instanceof Inet4Address) && a.isLinkLocalAddress();
        if (zone == null) {
            if (linkLocal6) {
                throw new IllegalArgumentException("'" + text + "' is link-local and names no interface; a link-local"
                        + " address is ambiguous without it (accepted: e.g. " + t + "%eth1)");
            }
            return a;
        }
        if (!linkLocal6) {
            throw new IllegalArgumentException("'" + text + "': only an IPv6 link-local address (fe80::/10) takes a zone"
                    + accepted);
        }
        if (!zone.matches("[A-Za-z0-9_.@-]{1,15}")) {
            throw new IllegalArgumentException("'" + text + "': '" + zone + "' is not an interface name or index" + accepted);
        }
        try {
            return InetAddress.getByName(a.getHostAddress() + "%" + zone);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + text + "': this host has no interface " + zone
                    + " with an IPv6 link-local address" + accepted);
        }
    }

    /**
     * A client network ({@code network.lan.clients}, {@code pcp.thirdPartyClients}): a CIDR block of either family,
     * IPv6 link-local (fe80::/10) included (UPnP control points speak from it). An IPv4-mapped block is refused
     * (it is written as IPv4), and so are multicast blocks.
     */
    public static Cidr parseClientNetwork(String text) {
        String t = text == null ? "" : text.trim();
        int slash = t.indexOf('/');
        String addr = slash < 0 ? t : t.substring(0, slash);
        if (addr.contains(":") && parseLiteral(addr) instanceof Inet4Address v4) { // Java reads ::ffff:a.b.c.d as IPv4
            String prefix = slash < 0 ? "" : t.substring(slash + 1);
            String asV4 = prefix.matches("\\d{1,3}") && Integer.parseInt(prefix) >= 96 && Integer.parseInt(prefix) <= 128
                    ? new Cidr(v4, Integer.parseInt(prefix) - 96).toString() : slash < 0 ? v4.getHostAddress() : null;
            throw new IllegalArgumentException("'" + text + "' is an IPv4-mapped IPv6 block; "
                    + (asV4 == null ? "write it as IPv4" : "write it as " + asV4)
                    + " (accepted: a CIDR block such as 192.168.77.0/24 or fd00:77::/64)");
        }
        Cidr c = Cidr.parse(text);
        if (c.network().isMulticastAddress() && c.prefixLength() >= (c.network() instanceof Inet4Address ? 4 : 8)) {
            throw new IllegalArgumentException("'" + text + "' is a multicast block, no client sends from it (accepted:"
                    + " a CIDR block such as 192.168.77.0/24 or fd00:77::/64)");
        }
        return c;
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
