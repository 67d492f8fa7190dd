package io.natgw.it.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.natgw.gateway.admin.AdminFiles;
import io.natgw.gateway.admin.TlsIdentity;
import io.natgw.it.support.Daemon;
import io.natgw.it.support.Require;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Traffic counters end to end: a known number of bytes goes through a TCP mapping of the real daemon (its
 * userspace relay, by copy and by splice) or a UDP mapping, then every place that shows the figures must show the
 * truth: the mapping in the admin API, {@code natgw leases} and {@code /metrics}. Copy counts exactly, and every place shows exactly those bytes, unmarked; splice counts whole
 * 64 KiB chunks, so every place marks the figures approximate and they lie within the uncertainty the API and
 * /metrics state. Received is WAN to LAN, sent is LAN to WAN. A relay cannot see IP packets: its packet
 * counters are UDP datagrams, so a TCP transfer must show none and the UDP one exactly those it sent.
 */
class TrafficCountersE2eTest {

    static final InetAddress LAN = ip("127.0.0.1"); // jupnp serves UPnP only on an interface's own address
    static final InetAddress WAN = ip("127.0.62.1");
    static final InetAddress HOST = ip("127.0.0.1"); // the LAN host the mapping points to
    /** Odd sizes, larger than one read and one 64 KiB splice step, different in each direction. */
    static final int TO_LAN = 300_007;
    static final int TO_WAN = 200_003;
    static final int UDP_DATAGRAMS = 20;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final java.util.Map<java.nio.file.Path, HttpClient> CLIENTS = new java.util.concurrent.ConcurrentHashMap<>();

    @Test
    void copyRelayBytesAreCountedExactlyEverywhere() throws Exception {
        bytesThroughATcpMapping("copy", false);
    }

    /** Splice counts whole 64 KiB chunks (262144 and 196608 of 300007 and 200003 bytes): marked approximate, in bounds. */
    @Test
    void spliceRelayBytesAreMarkedApproximateAndWithinTheirUncertaintyEverywhere() throws Exception {
        bytesThroughATcpMapping("splice", true);
    }

    /** UDP by the copy relay: datagrams in lockstep (no loss on loopback), their payload bytes counted. */
    @Test
    void udpDatagramBytesAreCountedExactlyEverywhere() throws Exception {
        int adminPort = freeTcpPort();
        try (Daemon d = daemon(adminPort, "copy"); DatagramSocket internal = new DatagramSocket(new InetSocketAddress(HOST, 0));
             DatagramSocket outside = new DatagramSocket(new InetSocketAddress(HOST, 0))) {
            internal.setSoTimeout(60_000);
            outside.setSoTimeout(60_000);
            int external = map(d, "udp", internal.getLocalPort());
            long toLan = 0;
            long toWan = 0;
            for (int i = 1; i <= UDP_DATAGRAMS; i++) {
                byte[] out = pattern(100 * i + 1, i);
                outside.send(new DatagramPacket(out, out.length, WAN, external));
                DatagramPacket in = new DatagramPacket(new byte[4096], 4096);
                internal.receive(in);
                assertArrayEquals(out, Arrays.copyOf(in.getData(), in.getLength()), "datagram " + i + " reached the LAN host");
                byte[] back = pattern(37 * i + 2, i + 1);
                internal.send(new DatagramPacket(back, back.length, in.getSocketAddress()));
                DatagramPacket reply = new DatagramPacket(new byte[4096], 4096);
                outside.receive(reply);
                assertArrayEquals(back, Arrays.copyOf(reply.getData(), reply.getLength()), "reply " + i + " reached the WAN client");
                toLan += out.length;
                toWan += back.length;
            }
            assertCountedEverywhere(d, adminPort, "udp", external, toLan, toWan, UDP_DATAGRAMS, false);
        }
    }

    private static void bytesThroughATcpMapping(String relay, boolean approximate) throws Exception {
        int adminPort = freeTcpPort();
        try (Daemon d = daemon(adminPort, relay); ServerSocket internal = new ServerSocket(0, 5, HOST)) {
            Require.check(d.log().contains(" " + relay + " relay,"),
                    "the " + relay + " relay did not load here (the daemon says: " + startedLine(d) + ")");
            int external = map(d, "tcp", internal.getLocalPort());

            byte[] toLan = pattern(TO_LAN, 3);
            byte[] toWan = pattern(TO_WAN, 7);
            CompletableFuture<byte[]> lanGot = CompletableFuture.supplyAsync(() -> serveOnce(internal, TO_LAN, toWan));
            try (Socket outside = new Socket()) {
                outside.setSoTimeout(60_000);
                outside.connect(new InetSocketAddress(WAN, external), 10_000);
                OutputStream o = outside.getOutputStream();
                o.write(toLan);
                o.flush();
                outside.shutdownOutput();
                InputStream in = outside.getInputStream();
                assertArrayEquals(toWan, in.readAllBytes(), "the LAN host's reply came through whole");
            }
            assertArrayEquals(toLan, lanGot.get(60, TimeUnit.SECONDS), "the WAN client's bytes came through whole");
            assertCountedEverywhere(d, adminPort, "tcp", external, TO_LAN, TO_WAN, 0, approximate);
        }
    }

    private static Daemon daemon(int adminPort, String relay) throws IOException {
        return Daemon.builder()
                .set("network.lan.addresses", List.of(LAN.getHostAddress()))
                .set("network.wan.address", WAN.getHostAddress())
                .set("pcp.enabled", false)
                .set("upnp.httpPort", freeTcpPort())
                .set("upnp.ssdp", false)
                .set("admin.port", adminPort)
                .set("triggers", List.of())
                .set("dataplane.relay", relay)
                .start();
    }

    /** {@code natgw map add PROTO EXTERNAL 127.0.0.1:PORT} on a free-looking external port; returns that port. */
    private static int map(Daemon d, String protocol, int internalPort) {
        int external = 30_000 + ThreadLocalRandom.current().nextInt(5_000);
        NatgwCli.Result add = NatgwCli.run(d.configFile(), "map", "add", protocol, Integer.toString(external),
                HOST.getHostAddress() + ":" + internalPort, "--description", "counters");
        assertEquals(0, add.exit(), add.err());
        return external;
    }

    /**
     * The mapping's row in the API and in {@code natgw leases}, the status totals and {@code /metrics} all show
     * {@code toLan} bytes received and {@code toWan} sent (this daemon carried nothing else): exactly and unmarked
     * when the relay counts exactly; marked approximate ("~" in the CLI) and within the stated uncertainty below
     * those bytes when {@code approximate}.
     */
    private static void assertCountedEverywhere(Daemon d, int adminPort, String protocol, int external, long toLan, long toWan,
                                                long datagramsEachWay, boolean approximate) throws Exception {
        // the relay counts when it has moved the bytes; wait (ceiling only) for the mapping's row to show them
        String path = "/api/v1/mappings/" + protocol + "/" + external;
        await("the mapping's counters").atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            JsonNode t = api(d, adminPort, path).path("traffic");
            Shown shown = Shown.of(t);
            assertEquals(approximate, t.path("bytesApproximate").asBoolean(), "marked approximate: " + t);
            assertTrue(shown.covers(toLan, toWan), "bytes received, sent " + List.of(toLan, toWan) + " within: " + t);
        });
        JsonNode traffic = api(d, adminPort, path).path("traffic");
        Shown row = Shown.of(traffic);
        assertEquals(List.of(datagramsEachWay, datagramsEachWay),
                List.of(traffic.path("packetsReceived").asLong(), traffic.path("packetsSent").asLong()), traffic.toString());
        if (approximate) {
            // one spliced connection: at most one partial 64 KiB chunk unseen each way, and the transfer is larger
            assertEquals(64 * 1024, row.uncertainty(), traffic.toString());
        } else {
            assertEquals(new Shown(toLan, toWan, 0), row, traffic.toString());
        }
        JsonNode totals = api(d, adminPort, "/api/v1/status").path("traffic");
        assertEquals(approximate, totals.path("bytesApproximate").asBoolean(), "status totals marked approximate: " + totals);
        assertEquals(row.uncertainty(), Shown.of(totals).uncertainty(), totals.toString());
        assertTrue(Shown.of(totals).covers(toLan, toWan), "status totals: " + totals);

        // natgw leases: the RX and TX columns of this row, "~" before each when approximate
        NatgwCli.Result leases = NatgwCli.run(d.configFile(), "leases");
        assertEquals(0, leases.exit(), leases.err());
        String line = leases.out().lines().filter(l -> l.contains(WAN.getHostAddress() + ":" + external)).findFirst()
                .orElseThrow(() -> new AssertionError("no row for " + external + " in:\n" + leases.out()));
        List<String> cells = Arrays.asList(line.trim().split("\\s+"));
        String figure = (approximate ? "~" : "") + "\\d+";
        int rx = cells.indexOf("yes") + 1; // RX and TX follow the ENABLED column
        assertTrue(rx > 0 && rx + 1 < cells.size() && cells.get(rx).matches(figure) && cells.get(rx + 1).matches(figure),
                "RX then TX as " + figure + ": " + line);
        Shown cli = new Shown(Long.parseLong(cells.get(rx).replace("~", "")), Long.parseLong(cells.get(rx + 1).replace("~", "")),
                row.uncertainty());
        assertTrue(cli.covers(toLan, toWan), "RX then TX: " + line);
        assertEquals(approximate, leases.out().contains("~ approximate"), leases.out());

        // (the IGD's GetTotalBytes* report the WAN interface's own counters, all its traffic, not the relays': here that
        // is the host's loopback, shared with every other process, so they are tested in namespaces by WanLinkE2eTest)

        // /metrics: the byte counters and the gauge of their uncertainty
        String metrics = get(d, adminPort, "/metrics");
        Shown metered = new Shown(metric(metrics, "natgw_forwarded_received_bytes_total"), metric(metrics, "natgw_forwarded_sent_bytes_total"),
                metric(metrics, "natgw_forwarded_bytes_uncertainty"));
        assertEquals(row.uncertainty(), metered.uncertainty(), metrics);
        assertTrue(metered.covers(toLan, toWan), metered + " in:\n" + metrics);
        assertEquals(List.of(datagramsEachWay, datagramsEachWay), List.of(metric(metrics, "natgw_forwarded_received_packets_total"),
                metric(metrics, "natgw_forwarded_sent_packets_total")), metrics);
    }

    /** Byte figures as shown, and how far each may be short of the bytes moved. */
    record Shown(long received, long sent, long uncertainty) {
        static Shown of(JsonNode traffic) {
            return new Shown(traffic.path("bytesReceived").asLong(), traffic.path("bytesSent").asLong(),
                    traffic.path("bytesUncertainty").asLong());
        }

        /** Whether the bytes moved lie in [shown, shown + uncertainty] each way. */
        boolean covers(long toLan, long toWan) {
            return received <= toLan && toLan <= received + uncertainty && sent <= toWan && toWan <= sent + uncertainty;
        }
    }

    /** Accepts one connection, reads {@code expect} bytes to its end, answers {@code reply} and closes. */
    private static byte[] serveOnce(ServerSocket server, int expect, byte[] reply) {
        try (Socket s = server.accept()) {
            s.setSoTimeout(60_000);
            byte[] got = s.getInputStream().readAllBytes();
            assertEquals(expect, got.length);
            s.getOutputStream().write(reply);
            s.getOutputStream().flush();
            s.shutdownOutput();
            return got;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] pattern(int length, int step) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * step);
        }
        return b;
    }

    private static String startedLine(Daemon d) {
        return d.log().lines().filter(l -> l.contains("dataplane started")).findFirst().orElse("no 'dataplane started' line");
    }

    private static JsonNode api(Daemon d, int port, String path) throws Exception {
        return JSON.readTree(get(d, port, path));
    }

    /**
     * GET over HTTPS with the daemon's token, trusting exactly its certificate; anything but 200 fails. One client per
     * daemon: a client keeps its connection, and a new one per poll would meet the admin's per-client connection cap.
     */
    private static String get(Daemon d, int port, String path) throws Exception {
        AdminFiles files = new AdminFiles(d.dataDir());
        HttpClient http = CLIENTS.get(d.dataDir());
        if (http == null) {
            http = HttpClient.newBuilder().sslContext(TlsIdentity.trusting(files.tlsCertificate()))
                    .connectTimeout(Duration.ofSeconds(30)).build();
            CLIENTS.put(d.dataDir(), http);
        }
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + Files.readString(files.token()).trim()).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        return r.body();
    }

    /** A sample's value in the Prometheus text format (exactly one sample of that name). */
    private static long metric(String text, String name) {
        List<String> samples = text.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{")).toList();
        assertEquals(1, samples.size(), name + " in:\n" + text);
        String v = samples.get(0).substring(samples.get(0).lastIndexOf(' ') + 1);
        return (long) Double.parseDouble(v);
    }

    private static int freeTcpPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
