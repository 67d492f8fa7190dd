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
}
