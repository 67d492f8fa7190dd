package io.natgw.gateway.link;

import io.natgw.conf.NatgwConfig;
import io.natgw.core.Forwarder;
import io.natgw.core.InMemoryLeaseStore;
import io.natgw.core.MappingTable;
import io.natgw.gateway.DefaultConfig;
import io.natgw.igd.IgdServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Abuse: whatever sysfs holds — random bytes, directories where files belong, oversized files, an interface that
 * vanishes — the IGD's link actions answer 200 with figures of the spec's types (never a SOAP fault or a 500), through
 * the real IgdServer and the real sysfs reader over a fake tree.
 */
class LinkSoapAbuseTest {

    static final String COMMON = "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1";
    static final String WANIP1 = "urn:schemas-upnp-org:service:WANIPConnection:1";
    static final String WANIP2 = "urn:schemas-upnp-org:service:WANIPConnection:2";
    static final List<String> FILES = List.of("operstate", "flags", "carrier", "carrier_changes", "speed",
            "statistics/rx_bytes", "statistics/tx_bytes", "statistics/rx_packets", "statistics/tx_packets");

    @TempDir
    Path dir;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void garbageInSysfsNeverFailsALinkAction() throws Exception {
        Path root = Files.createDirectories(dir.resolve("net"));
        Path eth = Files.createDirectories(root.resolve("eth0/statistics")).getParent();
        NatgwConfig d = DefaultConfig.load();
        NatgwConfig config = new NatgwConfig(d.source(), d.network(), dir.resolve("data"), d.pcp(),
                new NatgwConfig.Upnp(true, 0, false, Duration.ofHours(2), Duration.ofDays(7), "abuse"), d.admin(), d.limits(),
                d.permissions(), d.staticMappings(), d.triggers(), d.dataplane());
        SysfsWanLink link = new SysfsWanLink(root, () -> Optional.of("eth0"), Clock.systemUTC());
        Random random = new Random(15_4);
        try (MappingTable table = new MappingTable(config, new InMemoryLeaseStore(), Forwarder.NONE, Clock.systemUTC())) {
            IgdServer igd = new IgdServer(config, table, link, io.natgw.core.TrafficStats.NONE);
            table.start();
            igd.start();
            try {
                InetAddress lan = d.network().lanAddresses().get(0);
                String desc1 = get(igd.descriptionUrl(1, lan));
                String desc2 = get(igd.descriptionUrl(2, lan));
                URI common = control(igd.descriptionUrl(1, lan), desc1, COMMON);
                URI wanIp1 = control(igd.descriptionUrl(1, lan), desc1, WANIP1);
                URI wanIp2 = control(igd.descriptionUrl(2, lan), desc2, WANIP2);
                for (int round = 0; round < 12; round++) {
                    for (String f : FILES) {
                        Path p = eth.resolve(f);
                        deleteTree(p);
                        switch ((round + f.length()) % 4) {
                            case 0 -> {
                                byte[] junk = new byte[random.nextInt(200)];
                                random.nextBytes(junk);
                                Files.write(p, junk);
                            }
                            case 1 -> Files.createDirectories(p); // reading fails with an IOException
                            case 2 -> Files.writeString(p, "9".repeat(100_000));
                            default -> Files.writeString(p, random.nextBoolean() ? "-1\n" : "up\n");
                        }
                    }
                    if (round == 11) {
                        deleteTree(root.resolve("eth0")); // the interface went away
                    }
                    for (String counter : List.of("BytesSent", "BytesReceived", "PacketsSent", "PacketsReceived")) {
                        String v = call(common, COMMON, "GetTotal" + counter, "NewTotal" + counter);
                        long n = Long.parseLong(v);
                        assertTrue(n >= 0 && n <= 0xffffffffL, counter + " " + v);
                    }
                    String rate = call(common, COMMON, "GetCommonLinkProperties", "NewLayer1DownstreamMaxBitRate");
                    assertTrue(Long.parseLong(rate) >= 0 && Long.parseLong(rate) <= 0xffffffffL, rate);
                    assertTrue(List.of("Up", "Down", "Initializing", "Unavailable").contains(
                            call(common, COMMON, "GetCommonLinkProperties", "NewPhysicalLinkStatus")));
                    for (URI[] c : new URI[][]{{wanIp1}, {wanIp2}}) {
                        String type = c[0] == wanIp1 ? WANIP1 : WANIP2;
                        assertTrue(List.of("Connected", "Connecting", "Disconnected").contains(
                                call(c[0], type, "GetStatusInfo", "NewConnectionStatus")));
                        assertTrue(Long.parseLong(call(c[0], type, "GetStatusInfo", "NewUptime")) >= 0);
                    }
                }
                assertEquals("Unavailable", call(common, COMMON, "GetCommonLinkProperties", "NewPhysicalLinkStatus"));
                assertEquals("ERROR_IP_CONFIGURATION", call(wanIp1, WANIP1, "GetStatusInfo", "NewLastConnectionError"));
            } finally {
                igd.close();
            }
        }
    }

    private static void deleteTree(Path p) throws Exception {
        if (Files.isDirectory(p)) {
            try (var s = Files.walk(p)) {
                for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(x);
                }
            }
        } else {
            Files.deleteIfExists(p);
        }
    }

    private String get(URI u) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(u).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), u.toString());
        return r.body();
    }

    private static URI control(URI description, String xml, String service) {
        Matcher m = Pattern.compile("<serviceType>" + Pattern.quote(service) + "</serviceType>.*?<controlURL>([^<]+)</controlURL>",
                Pattern.DOTALL).matcher(xml);
        assertTrue(m.find(), service + " in " + xml);
        return description.resolve(m.group(1));
    }

    /** One SOAP action: HTTP 200 and the named output (a fault or a 500 fails the test). */
    private String call(URI control, String service, String action, String output) throws Exception {
        String body = "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\""
                + " s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:" + action + " xmlns:u=\"" + service
                + "\"></u:" + action + "></s:Body></s:Envelope>";
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(control).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "text/xml; charset=\"utf-8\"").header("SOAPAction", "\"" + service + "#" + action + "\"")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), action + ": " + r.body());
        Matcher m = Pattern.compile("<" + output + ">([^<]*)</" + output + ">").matcher(r.body());
        assertTrue(m.find(), action + ": " + r.body());
        return m.group(1);
    }
}
