package io.natgw.it.igd;

import io.natgw.igd.Descriptions;
import io.natgw.igd.RawHttp;
import io.natgw.igd.Soap;
import io.natgw.it.support.Daemon;
import org.awaitility.Awaitility;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real daemon serving UPnP on loopback with its HTTP port on a free port, PCP and admin off (other
 * tests may hold their ports). The description URLs come from the daemon's log line
 * {@code UPnP IGD:1 at URL and IGD:2 at URL}, as an admin would read them.
 */
final class IgdDaemon implements AutoCloseable {

    private static final Pattern URLS = Pattern.compile("UPnP IGD:1 at (\\S+) and IGD:2 at (\\S+?),");

    final Daemon daemon;
    final int httpPort;
    final URI v1;
    final URI v2;

    private IgdDaemon(Daemon daemon, int httpPort) {
        this.daemon = daemon;
        this.httpPort = httpPort;
        Matcher m = URLS.matcher("");
        Awaitility.await("the daemon to log its UPnP description URLs").atMost(Duration.ofSeconds(20))
                .until(() -> URLS.matcher(daemon.log()).find());
        m = URLS.matcher(daemon.log());
        if (!m.find()) {
            throw new IllegalStateException("no UPnP line in the daemon log:\n" + daemon.logTail());
        }
        this.v1 = URI.create(m.group(1));
        this.v2 = URI.create(m.group(2));
    }

    static IgdDaemon start(boolean ssdp) {
        return start(ssdp, 0);
    }

    /** @param pcpPort NAT-PMP/PCP on this UDP port (announcements off); 0 = PCP off */
    static IgdDaemon start(boolean ssdp, int pcpPort) {
        return start(ssdp, pcpPort, Map.of());
    }

    /** @param settings further configuration keys by dotted path, e.g. {@code "upnp.v1ZeroLease" -> 86400} */
    static IgdDaemon start(boolean ssdp, int pcpPort, Map<String, Object> settings) {
        int port = freeTcpPort();
        Daemon.Builder b = Daemon.builder()
                .set("upnp.httpPort", port)
                .set("upnp.ssdp", ssdp)
                .set("upnp.friendlyName", "natgw-it-" + port)
                .set("pcp.enabled", pcpPort > 0)
                .set("admin.enabled", false);
        if (pcpPort > 0) {
            b.set("pcp.port", pcpPort).set("pcp.announce", false);
        }
        settings.forEach(b::set);
        Daemon d = b.start();
        try {
            return new IgdDaemon(d, port);
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    /** The WANIPConnection control URL of the IGD:{@code version} tree. */
    URI control(int version) {
        try {
            return Descriptions.controlUrl(version == 1 ? v1 : v2, "urn:schemas-upnp-org:service:WANIPConnection:" + version);
        } catch (Exception e) {
            throw new IllegalStateException("no WANIPConnection:" + version + " control URL: " + e, e);
        }
    }

    /** The IGD:{@code version} device description; anything but HTTP 200 fails. */
    String description(int version) {
        URI url = version == 1 ? v1 : v2;
        try {
            RawHttp.Response r = RawHttp.get(url, Map.of());
            if (r.status() != 200) {
                throw new AssertionError("GET " + url + " answered " + r.status() + ":\n" + r.body());
            }
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Soap soap(int version) {
        return new Soap(control(version), "urn:schemas-upnp-org:service:WANIPConnection:" + version);
    }

    static int freeTcpPort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int freeUdpPort() {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        daemon.close();
    }
}
