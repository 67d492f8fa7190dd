package io.natgw.it.dataplane;

import io.natgw.it.support.Daemon;
import io.natgw.it.support.Require;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.natgw.it.dataplane.Topology.metric;
import static io.natgw.it.dataplane.Topology.GW_LAN;
import static io.natgw.it.dataplane.Topology.GW_WAN;
import static io.natgw.it.dataplane.Topology.LAN_A;
import static io.natgw.it.dataplane.Topology.LAN_B;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon on a router between two network namespaces, in linux-gateway mode with {@code dataplane.forwarding:
 * relay}: NAT-PMP mappings relayed from the WAN, port triggering seen through the nftables TPROXY divert (the IRC
 * IDENT case), one host at a time, and mappings restored after {@code kill -9}. Kernel forwarding (the default) is
 * {@link KernelForwardingE2eTest}'s.
 */
class LinuxGatewayE2eTest {

    static final Map<String, Object> IDENT_RULE = Map.of("name", "IRC IDENT", "triggerProtocol", "tcp",
            "triggerPorts", "6660-7000", "incomingProtocol", "tcp", "incomingPorts", "113", "timeout", 4, "enabled", true);

    Topology net;
    Daemon daemon;

    @BeforeEach
    void topology() throws Exception {
        net = Topology.forDaemon("nft", "natpmpc", "curl");
    }

    @AfterEach
    void teardown() {
        Topology.close(daemon, net);
    }

    Daemon start(List<Map<String, Object>> triggers) {
        return builder(triggers).start();
    }

    Daemon.Builder builder(List<Map<String, Object>> triggers) {
        return net.gatewayDaemon()
                .set("network.wan.interface", "gwwan")
                .set("upnp.enabled", false)
                .set("admin.enabled", false)
                .set("pcp.announce", false)
                .set("dataplane.mode", "linux-gateway")
                .set("dataplane.forwarding", "relay")
                .set("triggers", triggers);
    }

    /** From the WAN host: a TCP and a UDP exchange with the echo behind each port, replies from the mapped port. */
    void assertForwards(int... ports) {
        StringBuilder expected = new StringBuilder();
        String[] args = new String[ports.length + 2];
        args[0] = "forwards";
        args[1] = GW_WAN;
        for (int i = 0; i < ports.length; i++) {
            int p = ports[i];
            expected.append(i > 0 ? "; " : "").append(p).append(" tcp=t").append(p).append(" udp=u").append(p)
                    .append(" from ").append(GW_WAN).append(':').append(p);
            args[i + 2] = Integer.toString(p);
        }
        assertEquals(expected.toString(), net.peer(net.wan, args));
    }

    @Test
    void aNatPmpMappingCarriesWanTcpAndUdpToTheLanHost() throws Exception {
        daemon = start(List.of(IDENT_RULE));
        assertTrue(daemon.log().contains("linux-gateway divert active"), "relay mode with its divert ran");
        net.server(net.lan, "echo", "echo", LAN_A, "8080");

        // natpmpc may read its own late duplicate answer on a busy machine: the helper asks again then
        io.natgw.it.pcp.Natpmpc natpmpc = new io.natgw.it.pcp.Natpmpc(List.of("ip", "netns", "exec", net.lan),
                java.net.InetAddress.getByName(GW_LAN));
        var tcp = natpmpc.map(8080, 8080, "tcp", 600);
        assertEquals(List.of(8080, "TCP", 8080), List.of(tcp.publicPort(), tcp.protocol(), tcp.privatePort()), daemon.logTail());
        var udp = natpmpc.map(8080, 8080, "udp", 600);
        assertEquals(List.of(8080, "UDP", 8080), List.of(udp.publicPort(), udp.protocol(), udp.privatePort()));

        assertForwards(8080);
    }

    @Test
    void ircIdentSucceedsWithTheTriggerRuleAndFailsWithoutIt() {
        net.masquerade();
        net.server(net.wan, "irc", "irc", "0.0.0.0", "6667");
        net.server(net.lan, "ident-a", "ident", LAN_A, "alice");
        net.server(net.lan, "ident-b", "ident", LAN_B, "bob");

        daemon = start(List.of());
        String without = net.peer(net.lan, "line", LAN_A, Topology.WAN_HOST, "6667");
        assertTrue(without.startsWith("IDENT FAIL"), without);
        daemon.close();

        daemon = start(List.of(IDENT_RULE));
        String with = net.peer(net.lan, "line", LAN_A, Topology.WAN_HOST, "6667");
        assertTrue(with.startsWith("IDENT OK") && with.endsWith(": USERID : UNIX : alice"), with);

        // One host at a time: B's trigger is refused while A holds 113, so the server still reaches A.
        String second = net.peer(net.lan, "line", LAN_B, Topology.WAN_HOST, "6667");
        assertTrue(second.endsWith(": alice"), second);
        await("the refusal's log line").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> daemon.log().contains("trigger 'IRC IDENT' from " + LAN_B + " refused"));

        // Without traffic, 113 closes after the rule's 4 s; then B's trigger wins.
        await("113 to close").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                .until(() -> daemon.log().contains("unmapped tcp " + GW_WAN + ":113"));
        String third = net.peer(net.lan, "line", LAN_B, Topology.WAN_HOST, "6667");
        assertTrue(third.startsWith("IDENT OK") && third.endsWith(": bob"), third);
    }

    /**
     * A diverted flow whose LAN client half-closes and then reads a reply larger than the sockets hold: the divert's
     * socket towards the client waits for writability with its input shut down, which on Netty 4.2.18's epoll lost
     * the end of the reply before {@code EpollKeepRegistered}.
     */
    @Test
    void aDivertedFlowHalfClosedByTheLanHostGetsAllOfALargeReply() {
        int bytes = 8 * 1024 * 1024;
        net.server(net.wan, "bulk", "reply", Topology.WAN_HOST, "6667", Integer.toString(bytes));
        daemon = start(List.of(IDENT_RULE));

        assertEquals(bytes + " " + Peers.sha256(Peers.pattern(bytes)),
                net.peer(net.lan, "fetch", Topology.WAN_HOST, "6667", "GET"));
        await("the trigger's log line").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> daemon.log().contains("trigger 'IRC IDENT' opened tcp 113 to " + LAN_A));
    }

    @Test
    void aUdpTriggerIsDivertedRelayedFromTheWanAddressAndOpensItsPortsAndItsBytesShowInMetrics() throws Exception {
        net.server(net.wan, "game-server", "echo", Topology.WAN_HOST, "5000");
        net.server(net.lan, "game-client", "echo", LAN_A, "5001");
        daemon = builder(List.of(Map.of("name", "Game", "triggerProtocol", "udp", "triggerPorts", "5000",
                "incomingProtocol", "udp", "incomingPorts", "5001", "timeout", 60, "enabled", true)))
                .set("admin.enabled", true).set("admin.addresses", List.of("127.0.0.1")).start();

        // The LAN host talks to the server; the reply comes back from the server's address (transparent socket).
        assertEquals("hello from " + Topology.WAN_HOST + ":5000", net.peer(net.lan, "udp", Topology.WAN_HOST, "5000", "hello"));
        // The engine logs the opening when the table acknowledges it, which may follow the relayed reply.
        await("the trigger's log line").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> daemon.log().contains("trigger 'Game' opened udp 5001 to " + LAN_A));
        // ... and the opened port carries the server's traffic to it.
        assertEquals("back from " + GW_WAN + ":5001", net.peer(net.wan, "udp", GW_WAN, "5001", "back"));

        // The diverted flow's bytes show in /metrics: "hello" out, the server's echo of it back.
        String metrics = net.metrics(daemon);
        assertTrue(metric(metrics, "natgw_diverted_sent_bytes_total") >= "hello".length(), metrics);
        assertTrue(metric(metrics, "natgw_diverted_received_bytes_total") >= "hello".length(), metrics);
    }

    @Test
    void afterKill9EveryRestoredMappingForwardsAgain() throws Exception {
        daemon = start(List.of(IDENT_RULE));
        net.server(net.lan, "echo", "echo", LAN_A, "8080");
        net.server(net.lan, "echo2", "echo", LAN_A, "9090");
        net.natpmp("-a", "8080", "8080", "tcp", "3600");
        net.natpmp("-a", "8080", "8080", "udp", "3600");
        net.natpmp("-a", "9090", "9090", "tcp", "3600");
        net.natpmp("-a", "9090", "9090", "udp", "3600");
        assertForwards(8080);
        java.nio.file.Path stream = net.server(net.wan, "stream", "stream", GW_WAN, "9090");

        // kill -9 while the stream is being relayed: the nftables table and routing rule stay behind, and the
        // restart must replace them
        daemon.kill9();
        daemon.restart();
        // Forwarding again as soon as the daemon says it started; each exchange is bounded by the client's 3 s
        // timeouts (a hang ceiling: how fast it is, is bench/relay-bench.sh's business).
        assertForwards(8080, 9090);
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(stream).contains("stream ended"));
        assertEquals(1, Topology.run(null, "ip", "netns", "exec", net.gw, "ip", "rule", "show").output().lines()
                .filter(l -> l.contains("fwmark 0x1 lookup 100")).count(), "one policy routing rule, not a stale copy");
    }
}
