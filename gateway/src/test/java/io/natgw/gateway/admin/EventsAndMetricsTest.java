package io.natgw.gateway.admin;

import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.MappingRequest;
import io.natgw.core.Origin;
import io.natgw.core.Owner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The change stream sees every committed change; /metrics shows the table's figures in Prometheus text. */
class EventsAndMetricsTest {

    @TempDir
    Path dataDir;

    @Test
    void theEventStreamCarriesAddsUpdatesAndRemovals() throws Exception {
        try (AdminFixture f = new AdminFixture(dataDir, false)) {
            List<String> data = new CopyOnWriteArrayList<>();
            HttpRequest req = HttpRequest.newBuilder(URI.create(f.base + "/api/v1/events"))
                    .header("Authorization", "Bearer " + f.token).build();
            HttpResponse<Stream<String>> stream = f.http.send(req, HttpResponse.BodyHandlers.ofLines());
            assertEquals("text/event-stream; charset=utf-8", stream.headers().firstValue("Content-Type").orElse(""));
            Thread reader = new Thread(() -> {
                try {
                    stream.body().filter(l -> l.startsWith("data: ")).forEach(data::add);
                } catch (java.io.UncheckedIOException closed) {
                    // the test closed the stream
                }
            });
            reader.setDaemon(true);
            reader.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> f.server != null && subscribers(f) == 1);

            InetAddress host = InetAddress.getByName("127.0.0.30");
            MappingRequest.Map map = MappingRequest.Map.dynamic(Owner.of(host, Origin.PCP), Protocol.TCP,
                    new Endpoint(host, 6100), 6100, Duration.ofSeconds(600));
            f.table.apply(map);
            f.table.apply(map); // a refresh: an update
            f.call("DELETE", "/api/v1/mappings/tcp/6100", null);
            await().atMost(Duration.ofSeconds(30)).until(() -> data.size() >= 3);
            List<String> seen = data.stream().map(d -> {
                try {
                    var n = Json.MAPPER.readTree(d.substring(6));
                    return n.path("type").asText() + " " + n.path("mapping").path("id").asText() + " " + n.path("mapping").path("origin").asText();
                } catch (java.io.IOException e) {
                    return "bad " + d;
                }
            }).toList();
            assertEquals(List.of("added tcp/6100 pcp", "updated tcp/6100 pcp", "removed tcp/6100 pcp"), seen);
            stream.body().close();
        }
    }

    private static int subscribers(AdminFixture f) throws Exception {
        var field = AdminServer.class.getDeclaredField("events");
        field.setAccessible(true);
        return ((TableEvents) field.get(f.server)).subscribers();
    }

    @Test
    void metricsAreInPrometheusTextFormat() throws Exception {
        try (AdminFixture f = new AdminFixture(dataDir, false)) {
            f.call("POST", "/api/v1/mappings", AdminApiTest.STATIC_WEB);
            f.call("POST", "/api/v1/mappings", AdminApiTest.STATIC_WEB.replace("127.0.0.5", "127.0.0.6")); // changes it in place
            InetAddress host = InetAddress.getByName("127.0.0.31");
            f.table.apply(MappingRequest.Map.dynamic(Owner.of(host, Origin.UPNP), Protocol.UDP, new Endpoint(host, 7100), 7100,
                    Duration.ofSeconds(600)));
            f.table.apply(MappingRequest.Map.dynamic(Owner.of(InetAddress.getByName("127.0.0.32"), Origin.UPNP), Protocol.UDP,
                    new Endpoint(InetAddress.getByName("127.0.0.32"), 7100), 7100, Duration.ofSeconds(600))
                    .withOnConflict(MappingRequest.OnConflict.FAIL));
            AdminFixture.Reply r = f.call("GET", "/metrics", null);
            assertEquals(200, r.status());
            List<String> wanted = List.of(
                    "natgw_mappings{kind=\"static\",protocol=\"tcp\"} 1.0",
                    "natgw_mappings{kind=\"dynamic\",protocol=\"udp\"} 1.0",
                    "natgw_requests_total{origin=\"admin\"} 2.0",
                    "natgw_requests_total{origin=\"upnp\"} 2.0",
                    "natgw_refusals_total{origin=\"upnp\",reason=\"conflict\"} 1.0",
                    "# TYPE natgw_relay_sessions gauge", // open sessions go down: never a counter
                    "natgw_relay_sessions 0.0",
                    "# TYPE natgw_forwarded_received_packets_total counter", // relays: UDP datagrams; kernel: IP packets
                    "# TYPE natgw_forwarded_sent_packets_total counter",
                    "# TYPE natgw_forwarded_received_bytes_total counter",
                    "# TYPE natgw_forwarded_sent_bytes_total counter");
            List<String> lines = r.text().lines().toList();
            for (String w : wanted) {
                assertTrue(lines.contains(w), w + " in\n" + r.text());
            }
            // packets mean IP packets only under kernel forwarding: each packet counter's help says what it counts
            List<String> packetHelp = lines.stream().filter(l -> l.startsWith("# HELP ") && l.contains("_packets")).toList();
            assertEquals(2, packetHelp.size(), r.text());
            assertTrue(packetHelp.stream().allMatch(l -> l.contains("kernel forwarding: IP packets; relays: UDP datagrams")),
                    packetHelp.toString());
            assertTrue(lines.stream().noneMatch(l -> l.contains("natgw_relay_") && !l.contains("natgw_relay_sessions")),
                    "forwarded traffic is not named after relays:\n" + r.text());
        }
    }
}
