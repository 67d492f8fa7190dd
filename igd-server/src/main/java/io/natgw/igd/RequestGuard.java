package io.natgw.igd;

import io.natgw.conf.NatgwConfig;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The checks every HTTP request passes before jupnp sees it: the caller is a LAN client; the Host header is
 * a numeric IP literal (DNS-rebinding defence); a GENA SUBSCRIBE's callback URLs point back at the subscriber
 * itself (CallStranger, CVE-2020-12695); and Windows/Xbox, which fail on IGD:2, are given the IGD:1 description.
 * Pure functions of the request's parts.
 */
final class RequestGuard {

    private final NatgwConfig.Network network;
    private final Map<String, String> v1DescriptionFor;
    private final GenaBudget gena;
    private final java.util.function.Supplier<InetAddress> externalAddress;
    private final boolean router;
    private final Set<Integer> lanLinks;
    /** The LAN addresses UPnP serves: the configured ones and their interfaces' link-local addresses. */
    private final List<InetAddress> served;

    /**
     * @param v1DescriptionFor description paths to serve as the IGD:1 description to Windows/Xbox clients
     *                         (the IGD:2 root description path → the IGD:1 one)
     * @param externalAddress  the table's current external address
     */
    RequestGuard(NatgwConfig.Network network, Map<String, String> v1DescriptionFor, GenaBudget gena,
                 java.util.function.Supplier<InetAddress> externalAddress) {
        this.gena = gena;
        this.network = network;
        this.v1DescriptionFor = Map.copyOf(v1DescriptionFor);
        this.externalAddress = externalAddress;
        this.router = network.lanAddresses().stream().anyMatch(a -> !a.isLoopbackAddress());
        this.lanLinks = lanLinks(network.lanAddresses());
        this.served = IgdServer.lanAddresses(network.lanAddresses());
    }

    /**
     * A source UPnP answers: a LAN client, and on a router (LAN addresses not loopback) not one of the gateway's
     * own LAN or WAN addresses: such a packet is spoofed, or a relayed connection looping back (issue 10).
     */
    boolean isLanClient(InetAddress remote) {
        return (network.isLanClient(remote) || onLanLink(remote)) && !(router && isGatewayAddress(remote));
    }

    /**
     * A link-local IPv6 source whose zone is a LAN interface carrying an IPv6 LAN address: it can only come from
     * that link (routers never forward link-local), and SSDP searches to ff02::c leave from such addresses.
     */
    private boolean onLanLink(InetAddress remote) {
        return remote instanceof Inet6Address v6 && v6.isLinkLocalAddress() && v6.getScopeId() != 0
                && lanLinks.contains(v6.getScopeId());
    }

    private static Set<Integer> lanLinks(List<InetAddress> lanAddresses) {
        Set<Integer> out = new HashSet<>();
        for (InetAddress a : lanAddresses) {
            if (a instanceof Inet6Address && !a.isLoopbackAddress()) {
                try {
                    NetworkInterface nif = NetworkInterface.getByInetAddress(a);
                    if (nif != null) {
                        out.add(nif.getIndex());
                    }
                } catch (SocketException e) {
                    // not on this host: LanNetworkAddressFactory refuses to start with it
                }
            }
        }
        return Set.copyOf(out);
    }

    private boolean isGatewayAddress(InetAddress a) {
        return served.contains(a) || a.equals(network.wanAddress()) || a.equals(externalAddress.get());
    }

    /**
     * {@code 192.168.77.1}, {@code 192.168.77.1:5000}, {@code [::1]:5000}, {@code [fe80::1%25eth0]:5000} (a zone as
     * RFC 6874 writes it, or with a bare {@code %}); never a name. Absent: refused too.
     */
    static boolean hostIsLiteral(String host) {
        if (host == null || host.isEmpty() || host.length() > 64) {
            return false;
        }
        String h = host;
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            if (end < 0) {
                return false;
            }
            String rest = h.substring(end + 1);
            if (!rest.isEmpty() && !isPort(rest)) {
                return false;
            }
            String inside = h.substring(1, end);
            int zone = inside.indexOf('%');
            if (zone >= 0) {
                if (!ZONE.matcher(inside.substring(zone + 1)).matches()) {
                    return false;
                }
                inside = inside.substring(0, zone);
            }
            return literal(inside).isPresent() && inside.contains(":");
        }
        int colon = h.indexOf(':');
        if (colon >= 0) {
            if (!isPort(h.substring(colon))) {
                return false;
            }
            h = h.substring(0, colon);
        }
        return DOTTED_QUAD.matcher(h).matches() && literal(h).isPresent();
    }

    /** Compiled once: the Host check runs on every request (String.matches compiles per call). */
    private static final java.util.regex.Pattern DOTTED_QUAD = java.util.regex.Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final java.util.regex.Pattern COLON_PORT = java.util.regex.Pattern.compile(":\\d{1,5}");
    private static final java.util.regex.Pattern ZONE = java.util.regex.Pattern.compile("(25)?[A-Za-z0-9._~-]{1,16}");

    private static boolean isPort(String colonPort) {
        return COLON_PORT.matcher(colonPort).matches() && Integer.parseInt(colonPort.substring(1)) <= 65535;
    }

    /** Parses an IP literal without ever resolving a name. */
    static Optional<InetAddress> literal(String text) {
        try {
            return Optional.of(io.natgw.conf.Addresses.parseLiteral(text));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Why a new GENA subscription from this client is refused (a cap is reached), or null when it fits. */
    String subscriptionRefusal(InetAddress client) {
        return gena.refusal(client);
    }

    private static final java.util.regex.Pattern TIMEOUT = java.util.regex.Pattern.compile(
            "(?i)\\s*Second-(?:[0-9]{1,9}|infinite)\\s*");

    /**
     * A GENA TIMEOUT header jupnp can read: {@code Second-N} (N up to 9 digits) or {@code Second-infinite}.
     * Anything else would make jupnp log an ERROR for the client's mistake; it is dropped (default duration).
     */
    static boolean timeoutAcceptable(String timeout) {
        return TIMEOUT.matcher(timeout).matches();
    }

    /**
     * GENA CALLBACK: {@code <http://a.b.c.d:port/path>} one or more times. Accepted only when every URL is
     * http with a numeric host equal to the subscriber's address (UDA 2.0 §4.1.2; CVE-2020-12695).
     */
    static boolean callbackAllowed(String callbackHeader, InetAddress subscriber) {
        if (callbackHeader == null || callbackHeader.length() > 1024) {
            return false;
        }
        List<String> urls = new ArrayList<>();
        String rest = callbackHeader.trim();
        while (!rest.isEmpty()) {
            if (!rest.startsWith("<")) {
                return false;
            }
            int end = rest.indexOf('>');
            if (end < 0) {
                return false;
            }
            urls.add(rest.substring(1, end));
            rest = rest.substring(end + 1).trim();
        }
        if (urls.isEmpty() || urls.size() > 4) {
            return false;
        }
        for (String u : urls) {
            URI uri;
            try {
                uri = new URI(u);
            } catch (Exception e) {
                return false;
            }
            if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
                return false;
            }
            String host = uri.getHost();
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            } else if (!DOTTED_QUAD.matcher(host).matches()) {
                return false;
            }
            Optional<InetAddress> a = literal(host);
            if (a.isEmpty() || !a.get().equals(subscriber)) {
                return false;
            }
        }
        return true;
    }

    private static final java.util.regex.Pattern CONTENT_TYPE = java.util.regex.Pattern.compile(
            "\\s*[A-Za-z]+/[A-Za-z0-9.+-]+\\s*(?:;\\s*charset\\s*=\\s*\"?([A-Za-z0-9._-]{1,40})\"?\\s*)?;?\\s*");

    /**
     * A Content-Type jupnp can parse ({@code text/xml; charset="utf-8"}), with a charset the JVM knows. jupnp
     * logs a stack trace for anything else, so it is refused here (415) before jupnp sees it.
     */
    static boolean contentTypeAcceptable(String contentType) {
        java.util.regex.Matcher m = CONTENT_TYPE.matcher(contentType);
        if (!m.matches()) {
            return false;
        }
        try {
            return m.group(1) == null || java.nio.charset.Charset.isSupported(m.group(1));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The path to serve instead: Windows and Xbox ask with {@code Microsoft} or {@code FDSSDP} in the User-Agent. */
    String descriptionPath(String path, String userAgent) {
        if (userAgent == null) {
            return path;
        }
        String ua = userAgent.toLowerCase(Locale.ROOT);
        if (ua.contains("microsoft") || ua.contains("fdssdp")) {
            return v1DescriptionFor.getOrDefault(path, path);
        }
        return path;
    }
}
