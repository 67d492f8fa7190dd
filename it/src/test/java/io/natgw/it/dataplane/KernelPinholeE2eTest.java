package io.natgw.it.dataplane;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.natgw.it.support.Daemon;
import io.natgw.it.support.Require;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.natgw.it.dataplane.Topology.GW_LAN;
import static io.natgw.it.dataplane.Topology.GW_LAN6;
import static io.natgw.it.dataplane.Topology.GW_WAN;
import static io.natgw.it.dataplane.Topology.LAN_A6;
import static io.natgw.it.dataplane.Topology.LAN_B6;
import static io.natgw.it.dataplane.Topology.WAN_HOST6;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPv6 pinholes in the real daemon (linux-gateway mode, kernel forwarding, the lan / gw / wan topology): a pinhole
 * opened through the admin API forwards from the WAN host to its LAN host and no other, shows its kernel counters in
 * the lease table, and keeps forwarding across a {@code kill -9} and restart; without a pinhole inbound IPv6 is
 * dropped; in userspace mode a pinhole is refused and nothing is listed.
 */
class KernelPinholeE2eTest {

    static final Duration CEILING = Duration.ofSeconds(20);
    static final ObjectMapper JSON = new ObjectMapper();

    Topology net;
    Daemon daemon;

    @BeforeEach
    void topology() throws Exception {
        net = Topology.forDaemon("nft", "conntrack", "curl");
    }

    @AfterEach
    void teardown() {
        Topology.close(daemon, net);
    }

    Daemon start(Map<String, Object> more) {
        Daemon.Builder b = net.gatewayDaemon6()
                .set("network.wan.interface", "gwwan")
                .set("upnp.enabled", false)
                .set("pcp.announce", false)
                .set("admin.addresses", List.of("127.0.0.1"))
                .set("dataplane.mode", "linux-gateway");
        more.forEach(b::set);
        return b.start();
    }

    /** One admin API call in the gateway's namespace: the HTTP status and the body. */
    Topology.Result api(String method, String path, String body) throws Exception {
        String token = Files.readString(daemon.dataDir().resolve("admin.token")).trim();
        Topology.Result r = body == null
                ? net.exec(net.gw, "curl", "-sk", "-X", method, "-w", "\n%{http_code}", "-H", "Authorization: Bearer " + token,
                        "https://127.0.0.1:8443" + path)
                : net.exec(net.gw, "curl", "-sk", "-X", method, "-w", "\n%{http_code}", "-H", "Authorization: Bearer " + token,
                        "-H", "Content-Type: application/json", "--data-binary", body, "https://127.0.0.1:8443" + path);
        assertEquals(0, r.exit(), r.output());
        String out = r.output();
        int nl = out.lastIndexOf('\n');
        return new Topology.Result(Integer.parseInt(out.substring(nl + 1).trim()), nl < 0 ? "" : out.substring(0, nl));
    }

    static String pinhole(String protocol, String host, int port) {
        return "{\"protocol\":\"" + protocol + "\",\"externalPort\":" + port + ",\"internalAddress\":\"" + host
                + "\",\"internalPort\":" + port + "}";
    }

    String ask(String lanHost, int port, int localPort) {
        return net.peer(net.wan, "ask-from", WAN_HOST6, lanHost, Integer.toString(port), Integer.toString(localPort));
    }

    static String seen(String address) throws Exception {
        return InetAddress.getByName(address).getHostAddress();
    }

    void assertAdmitted(String lanHost, int port, int localPort, String what) throws Exception {
        String peer = seen(WAN_HOST6) + ":" + localPort;
        assertEquals("tcp=" + peer + " udp=" + peer, ask(lanHost, port, localPort), what + "\n" + daemon.logTail());
    }

    void assertDropped(String lanHost, int port, int localPort, String what) {
        String r = ask(lanHost, port, localPort);
        assertTrue(r.matches("tcp=java.net.SocketTimeoutException.* udp=java.net.SocketTimeoutException.*"), what + ": " + r);
    }

    @Test
    void aPinholeOpenedThroughTheAdminApiForwardsCountsAndSurvivesKill9() throws Exception {
        net.server(net.lan, "peer-a", "peer", LAN_A6, "8080");
        net.server(net.lan, "peer-b", "peer", LAN_B6, "8080");
        net.server(net.lan, "sink", "sink", LAN_A6, "8085");
        daemon = start(Map.of());
        assertTrue(daemon.log().contains("kernel forwarding (nftables)"), "the kernel path ran:\n" + daemon.logTail());

        assertDropped(LAN_A6, 8080, 40600, "an unsolicited inbound IPv6 connection without a pinhole");
        for (String p : List.of("tcp", "udp")) {
            Topology.Result r = api("POST", "/api/v1/mappings", pinhole(p, LAN_A6, 8080));
            assertEquals(201, r.exit(), r.output());
        }
        assertEquals(201, api("POST", "/api/v1/mappings", pinhole("tcp", LAN_A6, 8085)).exit());
        assertAdmitted(LAN_A6, 8080, 40601, "the pinholes admit the WAN host, seen as itself");
        assertDropped(LAN_B6, 8080, 40602, "a pinhole for one LAN host does not open another");

        int bytes = 2_000_000;
        assertEquals("got " + bytes, net.peer(net.wan, "send", LAN_A6, "8085", Integer.toString(bytes)));
        await("the pinhole's kernel counters in the lease table").atMost(CEILING).pollInterval(Duration.ofMillis(600))
                .untilAsserted(() -> {
                    Topology.Result list = api("GET", "/api/v1/mappings", null);
                    assertEquals(200, list.exit(), list.output());
                    JsonNode sink = null;
                    for (JsonNode m : JSON.readTree(list.output()).path("mappings")) {
                        if (m.toString().contains("8085")) {
                            sink = m;
                        }
                    }
                    assertTrue(sink != null, list.output());
                    long rx = sink.path("traffic").path("bytesReceived").asLong();
                    assertTrue(rx >= bytes && rx < bytes * 1.1, "WAN to LAN bytes of the pinhole: " + sink);
                });

        daemon.kill9();
        assertAdmitted(LAN_A6, 8080, 40603, "while natgw is down, the kernel still forwards the pinhole");
        daemon.restart();
        assertTrue(daemon.log().contains("reconciled with the 3 restored mappings"), daemon.logTail());
        assertAdmitted(LAN_A6, 8080, 40604, "after the restart");
        assertDropped(LAN_B6, 8080, 40605, "and still nothing else");
    }

    @Test
    void inUserspaceModeAPinholeIsRefusedAndNothingIsListed() throws Exception {
        daemon = start(Map.of("dataplane.mode", "userspace"));
        Topology.Result r = api("POST", "/api/v1/mappings", pinhole("tcp", LAN_A6, 8080));
        assertEquals(409, r.exit(), r.output());
        assertTrue(r.output().contains("pinholes_disabled") && r.output().contains("linux-gateway"), r.output());
        Topology.Result list = api("GET", "/api/v1/mappings", null);
        assertEquals(0, JSON.readTree(list.output()).path("count").asInt(), list.output());
        await("the log line naming linux-gateway mode").atMost(CEILING).pollInterval(Duration.ofMillis(100))
                .until(() -> daemon.log().contains("refusing IPv6 pinholes: only linux-gateway mode with kernel forwarding"));
        assertFalse(net.exec(net.gw, "nft", "list", "tables").output().contains("natgw"), "no kernel table in userspace mode");
    }
}
