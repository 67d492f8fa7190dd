package io.natgw.it.dataplane;

import io.natgw.it.support.Daemon;
import io.natgw.it.support.Require;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.natgw.it.dataplane.Topology.GW_LAN;
import static io.natgw.it.dataplane.Topology.GW_WAN;
import static io.natgw.it.dataplane.Topology.LAN_A;
import static io.natgw.it.dataplane.Topology.LAN_B;
import static io.natgw.it.dataplane.Topology.WAN_HOST;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * linux-gateway mode with kernel forwarding (the default): every mapping is an element of natgw's nftables table, in
 * a lan / gw / wan namespace topology. The LAN host sees the WAN peer's own address and port; hairpin; delete, expiry
 * and disable; cutOnDelete; kernel counters in the API and /metrics; forwarding through a kill -9 and the reconcile
 * after it; the IRC IDENT case with an identd that answers only for its host's live connections; self-check refusals.
 */
class KernelForwardingE2eTest {

    private static final com.fasterxml.jackson.databind.ObjectMapper YAML =
            new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
    static final Map<String, Object> IDENT_RULE = LinuxGatewayE2eTest.IDENT_RULE;
    /** Hang ceiling for what the kernel does at once (the figures are bench/relay-bench.sh's). */
    static final Duration CEILING = Duration.ofSeconds(20);

    Topology net;
    Daemon daemon;

    @BeforeEach
    void topology() throws Exception {
        net = Topology.forDaemon("nft", "natpmpc", "conntrack", "curl");
    }

    @AfterEach
    void teardown() {
        Topology.close(daemon, net);
    }

    Daemon start(List<Map<String, Object>> triggers, Map<String, Object> more) {
        return start(triggers, more, "ip", "netns", "exec", net.gw);
    }

    Daemon start(List<Map<String, Object>> triggers, Map<String, Object> more, String... prefix) {
        Daemon.Builder b = net.gatewayDaemon(prefix)
                .set("network.wan.interface", "gwwan")
                .set("upnp.enabled", false)
                .set("pcp.announce", false)
                .set("pcp.minLifetime", 1)
                .set("admin.addresses", List.of("127.0.0.1"))
                .set("dataplane.mode", "linux-gateway")
                .set("triggers", triggers);
        more.forEach(b::set);
        Daemon d = b.start();
        assertTrue(d.log().contains("kernel forwarding (nftables)"), "the kernel path ran:\n" + d.logTail());
        return d;
    }

    Daemon start() {
        return start(List.of(), Map.of());
    }

    /** natgw's admin CLI, run in the gateway's namespace. */
    Topology.Result cli(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", Daemon.jar().toString()));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-c", daemon.configFile().toString()));
        Topology.Result r = net.exec(net.gw, cmd.toArray(String[]::new));
        assertEquals(0, r.exit(), String.join(" ", args) + ": " + r.output());
        return r;
    }

    String nft(String... args) {
        List<String> cmd = new ArrayList<>(List.of("nft"));
        cmd.addAll(List.of(args));
        return net.exec(net.gw, cmd.toArray(String[]::new)).output();
    }

    String ask(String ns, int port, int localPort) {
        return net.peer(ns, "ask", GW_WAN, Integer.toString(port), Integer.toString(localPort));
    }

    /** One TCP exchange from the WAN host with the peer server behind a mapped port: its view of us, or the failure. */
    String tcp(int port) {
        return net.peer(net.wan, "line-from", WAN_HOST, GW_WAN, Integer.toString(port));
    }

    void assertForwarded(int port, String what) {
        String r = tcp(port);
        assertTrue(r.startsWith(WAN_HOST + ":"), what + " " + port + ": " + r + "\n" + nft("list", "table", "inet", "natgw")
                + "\n" + daemon.logTail());
    }

    void assertNotForwarded(int port, String what) {
        String r = tcp(port);
        assertTrue(r.contains("ConnectException"), what + " " + port + ": " + r);
    }

    static int rounds(Path streamLog) throws Exception {
        return (int) Files.readString(streamLog).lines().filter(l -> l.startsWith("round ")).count();
    }

    @Test
    void theLanHostSeesTheWanPeersOwnAddressAndPortOverTcpAndUdp() {
        daemon = start();
        net.server(net.lan, "peer", "peer", LAN_A, "8080");
        net.natpmp("-a", "8080", "8080", "tcp", "600");
        net.natpmp("-a", "8080", "8080", "udp", "600");

        assertTrue(nft("list", "map", "inet", "natgw", "dnat4").contains("tcp . 8080 : 192.168.77.10 . 8080"));
        assertEquals("tcp=" + WAN_HOST + ":40123 udp=" + WAN_HOST + ":40123", ask(net.wan, 8080, 40123));
        assertEquals("tcp=" + WAN_HOST + ":40124 udp=" + WAN_HOST + ":40124", ask(net.wan, 8080, 40124));
    }

    @Test
    void aMappingWithARemoteHostAdmitsThatHostOnly() {
        daemon = start();
        net.server(net.lan, "peer", "peer", LAN_A, "8080");
        Topology.sh("ip", "-n", net.wan, "addr", "add", "203.0.113.3/24", "dev", "wan0");
        cli("map", "add", "tcp", "8086", LAN_A + ":8080", "--remote-host", "203.0.113.3");

        assertTrue(nft("list", "map", "inet", "natgw", "fdnat4").contains("203.0.113.3 . 0-65535 . tcp . 8086"));
        String from3 = net.peer(net.wan, "line-from", "203.0.113.3", GW_WAN, "8086");
        assertEquals("203.0.113.3", from3.split(":")[0], from3);
        String from2 = net.peer(net.wan, "line-from", WAN_HOST, GW_WAN, "8086");
        assertTrue(from2.contains("ConnectException"), "another WAN host is not admitted: " + from2);
    }

    @Test
    void aLanHostReachesAMappingThroughTheWanAddressMasqueradedOnlyThen() {
        daemon = start();
        net.server(net.lan, "peer", "peer", LAN_A, "8080");
        net.natpmp("-a", "8080", "8080", "tcp", "600");
        net.natpmp("-a", "8080", "8080", "udp", "600");

        String hairpin = net.peer(net.lan, "ask-from", LAN_B, GW_WAN, "8080", "40300");
        assertTrue(hairpin.matches("tcp=" + Pattern.quote(GW_LAN) + ":\\d+ udp=" + Pattern.quote(GW_LAN) + ":\\d+"),
                "LAN-sourced hairpin traffic is SNATed to the gateway's LAN address: " + hairpin);
        assertEquals("tcp=" + WAN_HOST + ":40301 udp=" + WAN_HOST + ":40301", ask(net.wan, 8080, 40301),
                "WAN traffic keeps its source");
    }

    @Test
    void deleteExpiryAndDisableRemoveTheForwardingAtOnce() throws Exception {
        daemon = start();
        net.server(net.lan, "peer", "peer", LAN_A, "8080");
        net.server(net.lan, "peer2", "peer", LAN_A, "8081");
        java.time.Instant shortLeaseEnds = java.time.Instant.now().plusSeconds(4);
        net.natpmp("-a", "8081", "8081", "tcp", "4"); // NAT-PMP names a mapping by its internal port: another one
        assertForwarded(8081, "");
        net.natpmp("-a", "8080", "8080", "tcp", "600");
        cli("map", "add", "tcp", "8082", LAN_A + ":8080");
        assertForwarded(8080, "");
        assertForwarded(8082, "");

        net.natpmp("-a", "8080", "8080", "tcp", "0"); // delete
        assertFalse(nft("list", "map", "inet", "natgw", "dnat4").contains("tcp . 8080 "));
        assertNotForwarded(8080, "deleted: no forwarding");

        await("the 4 s lease to expire").atMost(CEILING).pollInterval(Duration.ofMillis(200))
                .until(() -> !nft("list", "map", "inet", "natgw", "dnat4").contains("tcp . 8081 "));
        assertTrue(java.time.Instant.now().isAfter(shortLeaseEnds), "removed when the lease ended, not before");
        assertNotForwarded(8081, "expired: no forwarding");

        cli("map", "add", "tcp", "8082", LAN_A + ":8080", "--disabled");
        var leases = new com.fasterxml.jackson.databind.ObjectMapper().readTree(cli("leases", "--json").output());
        List<Boolean> enabled = new ArrayList<>();
        leases.path("mappings").forEach(n -> enabled.add(n.path("enabled").asBoolean(true)));
        assertEquals(List.of(false), enabled, "the static mapping stays, disabled: " + leases);
        assertFalse(nft("list", "map", "inet", "natgw", "dnat4").contains("tcp . 8082 "));
        assertNotForwarded(8082, "disabled: no forwarding");
    }

    @Test
    void withCutOnDeleteAnEstablishedFlowStopsWhenItsMappingIsDeleted() {
        daemon = start(List.of(), Map.of("dataplane.cutOnDelete", true));
        net.server(net.lan, "echo", "echo", LAN_A, "9090");
        net.natpmp("-a", "9090", "9090", "tcp", "600");
        Path stream = net.server(net.wan, "stream", "stream", GW_WAN, "9090");

        net.natpmp("-a", "9090", "9090", "tcp", "0");
        await("the flow to be cut").atMost(CEILING).pollInterval(Duration.ofMillis(100))
                .until(() -> Files.readString(stream).contains("stream ended"));
    }

    @Test
    void withoutCutOnDeleteAnEstablishedFlowFinishesAfterItsMappingIsDeleted() throws Exception {
        daemon = start();
        net.server(net.lan, "echo", "echo", LAN_A, "9090");
        net.natpmp("-a", "9090", "9090", "tcp", "600");
        Path stream = net.server(net.wan, "stream", "stream", GW_WAN, "9090");

        net.natpmp("-a", "9090", "9090", "tcp", "0");
        assertNotForwarded(9090, "new flows are not forwarded");
        int before = rounds(stream);
        await("the established flow to go on").atMost(CEILING).pollInterval(Duration.ofMillis(100))
                .until(() -> rounds(stream) >= before + 3);
        assertFalse(Files.readString(stream).contains("stream ended"));
    }

    @Test
    void kernelCountersOfATransferOfKnownSizeShowInTheApiTheIgdAndMetricsWithTheMappingsConntrackSessions() throws Exception {
        daemon = start(List.of(), Map.of("upnp.enabled", true));
        net.server(net.lan, "sink", "sink", LAN_A, "8085");
        net.natpmp("-a", "8085", "8085", "tcp", "600");
        int bytes = 3_000_000;

        assertEquals("got " + bytes, net.peer(net.wan, "send", GW_WAN, "8085", Integer.toString(bytes)));

        // bytes on the wire: the payload plus IP and TCP headers (< 10 % at these segment sizes)
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(cli("leases", "--json").output());
        var traffic = json.path("mappings").get(0).path("traffic");
        long rx = traffic.path("bytesReceived").asLong();
        assertTrue(rx >= bytes && rx < bytes * 1.1, "per mapping, WAN to LAN: " + traffic);
        assertTrue(traffic.path("packetsReceived").asLong() > 0 && traffic.path("packetsSent").asLong() > 0
                && traffic.path("bytesSent").asLong() > 0, traffic.toString());
        // the transfer's connection is still tracked by the kernel (closing, TIME_WAIT): a session measured, not a 0
        assertTrue(traffic.path("sessions").asLong() >= 1, "the mapping's conntrack entries: " + traffic);

        // the IGD's WANCommonInterfaceConfig and /metrics: the WAN interface's own counters (gwwan carries the transfer)
        long igdRx = igd("GetTotalBytesReceived", "NewTotalBytesReceived");
        assertTrue(igdRx >= bytes, "IGD total WAN to LAN: " + igdRx);
        assertTrue(igd("GetTotalBytesSent", "NewTotalBytesSent") > 0, "IGD total LAN to WAN");
        long igdPackets = igd("GetTotalPacketsReceived", "NewTotalPacketsReceived");
        assertTrue(igdPackets >= bytes / 65_536, "IP packets (at most 64 KiB each): " + igdPackets);
        assertTrue(igd("GetTotalPacketsSent", "NewTotalPacketsSent") > 0, "IGD packets LAN to WAN");

        await("the totals to settle (the connection closed)").atMost(CEILING).pollInterval(Duration.ofMillis(600))
                .untilAsserted(() -> {
                    String metrics = net.metrics(daemon);
                    assertEquals(igd("GetTotalPacketsReceived", "NewTotalPacketsReceived"),
                            (long) Topology.metric(metrics, "natgw_wan_received_packets_total"), metrics);
                    assertEquals(igd("GetTotalBytesReceived", "NewTotalBytesReceived"),
                            (long) Topology.metric(metrics, "natgw_wan_received_bytes_total"), metrics);
                    assertEquals(igd("GetTotalBytesSent", "NewTotalBytesSent"),
                            (long) Topology.metric(metrics, "natgw_wan_sent_bytes_total"), metrics);
                });
        // the kernel's forwarded totals (what natgw's elements counted) in /metrics: the transfer, within headers
        double forwarded = Topology.metric(net.metrics(daemon), "natgw_forwarded_received_bytes_total");
        assertTrue(forwarded >= bytes && forwarded < bytes * 1.1, "forwarded WAN to LAN: " + forwarded);
        assertTrue(Topology.metric(net.metrics(daemon), "natgw_relay_sessions") >= 1, "conntrack sessions in total");
    }


    /** One WANCommonInterfaceConfig action, called from the LAN host as a UPnP client would: its numeric output. */
    long igd(String action, String output) {
        Matcher d = Pattern.compile("UPnP IGD:1 at (\\S+) and").matcher(daemon.log());
        assertTrue(d.find(), "no UPnP line in the daemon's log:\n" + daemon.logTail());
        java.net.URI description = java.net.URI.create(d.group(1));
        String service = "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1";
        Topology.Result desc = net.exec(net.lan, "curl", "-s", "--max-time", "10", description.toString());
        assertEquals(0, desc.exit(), desc.output());
        Matcher c = Pattern.compile("<serviceType>" + Pattern.quote(service) + "</serviceType>.*?<controlURL>([^<]+)</controlURL>",
                Pattern.DOTALL).matcher(desc.output());
        assertTrue(c.find(), desc.output());
        Topology.Result r = net.exec(net.lan, "curl", "-s", "--max-time", "10", "-H", "Content-Type: text/xml; charset=\"utf-8\"",
                "-H", "SOAPAction: \"" + service + "#" + action + "\"", "--data-binary", io.natgw.igd.Soap.envelope(service, action),
                description.resolve(c.group(1)).toString());
        assertEquals(0, r.exit(), r.output());
        Matcher v = Pattern.compile("<" + output + ">(\\d+)</" + output + ">").matcher(r.output());
        assertTrue(v.find(), action + ": " + r.output());
        return Long.parseLong(v.group(1));
    }

    @Test
    void aFlowKeepsGoingThroughKill9AndAnExpiredLeaseStopsForwardingAfterTheRestart() throws Exception {
        daemon = start();
        net.server(net.lan, "echo", "echo", LAN_A, "9090");
        net.server(net.lan, "peer", "peer", LAN_A, "8080");
        net.server(net.lan, "peer2", "peer", LAN_A, "8081");
        net.natpmp("-a", "9090", "9090", "tcp", "3600");
        net.natpmp("-a", "8080", "8080", "tcp", "3600");
        Path stream = net.server(net.wan, "stream", "stream", GW_WAN, "9090");
        java.time.Instant shortLeaseEnds = java.time.Instant.now().plusSeconds(5);
        net.natpmp("-a", "8081", "8081", "tcp", "5");

        daemon.kill9();
        assertTrue(nft("list", "map", "inet", "natgw", "dnat4").contains("tcp . 8081 "), "natgw died before the lease ended");
        await("natgw's conntrack -E to go with it").atMost(CEILING).pollInterval(Duration.ofMillis(100))
                .until(() -> Topology.run(null, "ip", "netns", "pids", net.gw).output().isBlank());
        int before = rounds(stream);
        await("the flow to go on while natgw is down").atMost(CEILING).pollInterval(Duration.ofMillis(100))
                .until(() -> rounds(stream) >= before + 3);
        assertForwarded(8080, "a new connection while natgw is down");
        // the short lease ends while natgw is down; the kernel still forwards it until natgw reconciles
        await("the short lease's end").atMost(CEILING).pollInterval(Duration.ofMillis(200))
                .until(() -> java.time.Instant.now().isAfter(shortLeaseEnds.plusSeconds(1)));
        assertTrue(nft("list", "map", "inet", "natgw", "dnat4").contains("tcp . 8081 "));

        daemon.restart();
        assertTrue(daemon.log().contains("reconciled with the 2 restored mappings") && daemon.log().contains("maps refilled in one transaction"),
                "the stale table reconciled in place:\n" + daemon.logTail());
        assertFalse(nft("list", "map", "inet", "natgw", "dnat4").contains("tcp . 8081 "), "expired meanwhile: removed");
        assertNotForwarded(8081, "the expired lease does not forward");
        assertForwarded(8080, "the live one does");
        int after = rounds(stream);
        await("the flow to go on after the restart").atMost(CEILING).pollInterval(Duration.ofMillis(100))
                .until(() -> rounds(stream) >= after + 3);
        assertFalse(Files.readString(stream).contains("stream ended"));

        daemon.close();
        assertFalse(nft("list", "tables").contains("natgw"), "a clean stop removes the table");
        daemon = null;
    }

    /**
     * The journal commits a batch while nftables applies it (issue 12): when nftables refuses a batch the journal
     * recorded (here natgw's table was deleted under it), the client hears a failure and the journal takes the batch
     * back before that answer, so a restart after kill -9 restores only what was acknowledged.
     */
    @Test
    void aMappingNftablesRefusesIsRefusedAndNotRestoredAfterKill9() {
        daemon = start();
        net.natpmp("-a", "8080", "8080", "tcp", "3600");
        nft("delete", "table", "inet", "natgw"); // the next transaction fails: its table is gone
        Topology.Result refused = net.exec(net.lan, "natpmpc", "-g", GW_LAN, "-a", "8082", "8082", "tcp", "3600");
        if (refused.output().contains("protocol UNKNOWN")) { // natpmpc read a late duplicate address answer: ask again
            refused = net.exec(net.lan, "natpmpc", "-g", GW_LAN, "-a", "8082", "8082", "tcp", "3600");
        }
        assertFalse(refused.output().contains("Mapped public port 8082"), "refused: " + refused.output());
        assertTrue(refused.output().toLowerCase(java.util.Locale.ROOT).contains("network failure"),
                "NAT-PMP's Network Failure: " + refused.output() + "\n" + daemon.logTail());
        assertTrue(daemon.log().contains("forwarding failed, 1 changes reverted"), daemon.logTail());

        daemon.kill9();
        daemon.restart();
        String log = daemon.log();
        assertTrue(log.substring(log.lastIndexOf("restored ")).startsWith("restored 1 mappings"),
                "only the acknowledged mapping is restored:\n" + daemon.logTail());
        String dnat = nft("list", "map", "inet", "natgw", "dnat4");
        assertTrue(dnat.contains("tcp . 8080 "), dnat);
        assertFalse(dnat.contains("tcp . 8082 "), "the refused mapping does not forward after the restart: " + dnat);
    }

    /** The daemon's {@code conntrack} children ({@code ps --ppid}): the event reader of port triggering. */
    List<String> conntrackChildren() {
        Topology.Result ps = Topology.run(null, "ps", "--ppid", Long.toString(daemon.pid()), "-o", "comm=");
        return ps.output().lines().map(String::strip).filter(c -> c.equals("conntrack")).toList();
    }

    /** Rewrites the daemon's trigger rules in its file and sends SIGHUP (a reload), then waits for {@code logged}. */
    void reloadTriggers(List<Map<String, Object>> rules, String logged) throws Exception {
        @SuppressWarnings("unchecked")
        Map<String, Object> cfg = YAML.readValue(daemon.configFile().toFile(), LinkedHashMap.class);
        cfg.put("triggers", rules);
        YAML.writeValue(daemon.configFile().toFile(), cfg);
        assertEquals(0, Topology.run(null, "kill", "-HUP", Long.toString(daemon.pid())).exit());
        await("the reload").atMost(CEILING).until(() -> daemon.log().contains(logged));
    }

    /**
     * {@code conntrack -E} gets an event for every new connection through the gateway and filters the trigger mark
     * itself: without an enabled trigger rule it does not run (a listener per new flow for nothing), and a reload
     * that adds the first rule starts it, one that removes the last stops it.
     */
    @Test
    void conntrackEventsAreReadOnlyWhileATriggerRuleIsEnabled() throws Exception {
        daemon = start();
        assertFalse(daemon.log().contains("learns trigger flows from conntrack events"), daemon.logTail());
        assertEquals(List.of(), conntrackChildren(), "no event reader without a rule");

        reloadTriggers(List.of(IDENT_RULE), "learns trigger flows from conntrack events");
        assertEquals(List.of("conntrack"), conntrackChildren(), "the first rule starts the reader");

        reloadTriggers(List.of(), "no rule enabled, conntrack events are not read");
        await("the reader to end").atMost(CEILING).until(() -> conntrackChildren().isEmpty());
        assertTrue(daemon.alive());
    }

    @Test
    void ircIdentNamesTheLanClientsOwnPortToAnIdentdThatChecksItsLiveConnections() throws Exception {
        net.masquerade();
        Path irc = net.server(net.wan, "irc", "irc", "0.0.0.0", "6667");
        net.server(net.lan, "ident-a", "ident", LAN_A, "alice", "strict");

        daemon = start(List.of(IDENT_RULE), Map.of());
        String with = net.peer(net.lan, "line-port", LAN_A, WAN_HOST, "6667", "45000");
        assertTrue(with.startsWith("IDENT OK 45000, 6667 : USERID : UNIX : alice"), with);
        assertTrue(Files.readString(irc).contains("/" + GW_WAN + ":45000 IDENT OK"), "the server saw the client's own port");
        await("the trigger's log line").atMost(CEILING).pollInterval(Duration.ofMillis(50))
                .until(() -> daemon.log().contains("trigger 'IRC IDENT' opened tcp 113 to " + LAN_A));
    }

    @Test
    void aUdpTriggerFlowIsForwardedByTheKernelAndOpensItsPorts() {
        net.server(net.wan, "game-server", "peer", WAN_HOST, "5000");
        net.server(net.lan, "game-client", "echo", LAN_A, "5001");
        daemon = start(List.of(Map.of("name", "Game", "triggerProtocol", "udp", "triggerPorts", "5000",
                "incomingProtocol", "udp", "incomingPorts", "5001", "timeout", 60, "enabled", true)), Map.of());

        // no router NAT besides natgw's: the trigger flow is natgw's SNAT, keeping the client's port
        String seen = net.peer(net.lan, "ask-from", LAN_A, WAN_HOST, "5000", "46000");
        assertTrue(seen.endsWith(" udp=" + GW_WAN + ":46000"), seen);
        await("the trigger's log line").atMost(CEILING).pollInterval(Duration.ofMillis(50))
                .until(() -> daemon.log().contains("trigger 'Game' opened udp 5001 to " + LAN_A));
        assertEquals("back from " + GW_WAN + ":5001", net.peer(net.wan, "udp", GW_WAN, "5001", "back"));
    }

    @Test
    void aHostOutsideTheLanClientsTriggersNothing() {
        net.server(net.wan, "game-server", "peer", WAN_HOST, "5000");
        daemon = start(List.of(Map.of("name", "Game", "triggerProtocol", "udp", "triggerPorts", "5000",
                "incomingProtocol", "udp", "incomingPorts", "5001", "timeout", 60, "enabled", true)),
                Map.of("network.lan.clients", List.of(LAN_A + "/32")));

        // B first, then A: the events are handled in order, so once A's opening is logged, B's would have been
        assertTrue(net.peer(net.lan, "udp-from", LAN_B, WAN_HOST, "5000", "b").endsWith(" from " + WAN_HOST + ":5000"));
        assertTrue(net.peer(net.lan, "udp-from", LAN_A, WAN_HOST, "5000", "a").endsWith(" from " + WAN_HOST + ":5000"));
        await("A's trigger").atMost(CEILING).pollInterval(Duration.ofMillis(50))
                .until(() -> daemon.log().contains("trigger 'Game' opened udp 5001 to " + LAN_A));
        assertFalse(daemon.log().contains("to " + LAN_B), "a host outside network.lan.clients opened nothing");
        assertTrue(nft("list", "map", "inet", "natgw", "dnat4").contains("udp . 5001 : " + LAN_A + " . 5001"));
    }

    @Test
    void trafficOnATriggeredPortKeepsItOpenPastTheRulesTimeout() {
        net.server(net.wan, "game-server", "peer", WAN_HOST, "5000");
        net.server(net.lan, "game-client", "echo", LAN_A, "5001");
        daemon = start(List.of(Map.of("name", "Game", "triggerProtocol", "udp", "triggerPorts", "5000",
                "incomingProtocol", "udp", "incomingPorts", "5001", "timeout", 3, "enabled", true)), Map.of());
        assertTrue(net.peer(net.lan, "udp", WAN_HOST, "5000", "hi").endsWith(" from " + WAN_HOST + ":5000"));
        await("the trigger's log line").atMost(CEILING).pollInterval(Duration.ofMillis(50))
                .until(() -> daemon.log().contains("trigger 'Game' opened udp 5001 to " + LAN_A));

        // 16 exchanges half a second apart: 8 s of incoming traffic against a 3 s timeout, every one forwarded
        assertEquals("replies 16", net.peer(net.wan, "udp-repeat", GW_WAN, "5001", "16", "500"));
        assertFalse(daemon.log().contains("unmapped udp " + GW_WAN + ":5001"), "renewed by the kernel's counters");
        await("5001 to close once the traffic stops").atMost(CEILING).pollInterval(Duration.ofMillis(200))
                .until(() -> daemon.log().contains("unmapped udp " + GW_WAN + ":5001"));
    }

    @Test
    void withoutATriggerRuleIdentFails() {
        net.masquerade();
        net.server(net.wan, "irc", "irc", "0.0.0.0", "6667");
        net.server(net.lan, "ident-a", "ident", LAN_A, "alice", "strict");
        daemon = start();
        String without = net.peer(net.lan, "line-port", LAN_A, WAN_HOST, "6667", "45001");
        assertTrue(without.startsWith("IDENT FAIL"), without);
    }

    @Test
    void refusesToStartWithoutIpForwardingBesideAConflictingTableOrWithoutCapNetAdmin() {
        Require.tool("setpriv");
        Topology.sh("ip", "netns", "exec", net.gw, "sysctl", "-qw", "net.ipv4.ip_forward=0");
        IllegalStateException noForward = assertThrows(IllegalStateException.class, this::start);
        assertTrue(noForward.getMessage().contains("refuses to start") && noForward.getMessage().contains("IPv4 forwarding is off"),
                noForward.getMessage());
        assertFalse(nft("list", "tables").contains("inet natgw"), "nothing installed");

        Topology.sh("ip", "netns", "exec", net.gw, "sysctl", "-qw", "net.ipv4.ip_forward=1");
        Topology.Result t = Topology.run("table ip natgw {\n}\n", "ip", "netns", "exec", net.gw, "nft", "-f", "-");
        assertEquals(0, t.exit(), t.output());
        IllegalStateException conflict = assertThrows(IllegalStateException.class, this::start);
        assertTrue(conflict.getMessage().contains("a conflicting nftables table 'ip natgw' exists"), conflict.getMessage());
        assertFalse(nft("list", "tables").contains("inet natgw"), "nothing installed");
        Topology.sh("ip", "netns", "exec", net.gw, "nft", "delete", "table", "ip", "natgw");

        // root without CAP_NET_ADMIN (dropped from the bounding set, so the daemon's exec does not get it)
        IllegalStateException noCap = assertThrows(IllegalStateException.class, () -> start(List.of(), Map.of(),
                "ip", "netns", "exec", net.gw, "setpriv", "--bounding-set", "-net_admin", "--"));
        assertTrue(noCap.getMessage().contains("CAP_NET_ADMIN is missing"), noCap.getMessage());
        assertFalse(nft("list", "tables").contains("natgw"), "nothing installed");
    }

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
