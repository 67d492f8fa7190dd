package io.natgw.it.dataplane;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.natgw.it.support.Daemon;
import io.natgw.it.support.Require;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.natgw.it.dataplane.Topology.GW_LAN;
import static io.natgw.it.dataplane.Topology.GW_WAN;
import static io.natgw.it.dataplane.Topology.LAN_A;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The WAN link's real figures (issue 15 point 4) from the real daemon in the lan / gw / wan namespaces: a transfer
 * of known size over the WAN interface raises the IGD's GetTotalBytesReceived (and packets, and {@code /metrics},
 * and the status) by at least that size; the link set down makes GetStatusInfo say Disconnected (upnpc and SOAP),
 * and up again Connected with a fresh uptime. In userspace mode the interface is found by the WAN address, in
 * linux-gateway mode it is network.wan.interface.
 */
class WanLinkE2eTest {

    static final Duration CEILING = Duration.ofSeconds(20);
    static final String COMMON = "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1";
    static final String WANIP = "urn:schemas-upnp-org:service:WANIPConnection:1";
    static final long UI4 = 1L << 32;

    Topology net;
    Daemon daemon;

    @BeforeEach
    void topology() throws Exception {
        net = Topology.forDaemon("natpmpc", "upnpc", "curl");
    }

    @AfterEach
    void teardown() {
        Topology.close(daemon, net);
    }

    /** @param linuxGateway linux-gateway mode with kernel forwarding and network.wan.interface; else userspace relays */
    Daemon start(boolean linuxGateway) {
        Daemon.Builder b = net.gatewayDaemon()
                .set("network.wan.allowPrivate", true)
                .set("upnp.enabled", true)
                .set("pcp.announce", false)
                .set("admin.addresses", List.of("127.0.0.1"));
        if (linuxGateway) {
            Require.tool("nft");
            Require.tool("conntrack");
            b.set("network.wan.interface", "gwwan").set("dataplane.mode", "linux-gateway");
        }
        Daemon d = b.start();
        if (linuxGateway) {
            assertTrue(d.log().contains("kernel forwarding (nftables)"), "the kernel path ran:\n" + d.logTail());
        }
        return d;
    }

    @Test
    void userspaceModeCountsATransferOnTheInterfaceHoldingTheWanAddressAndSeesTheLinkGoDown() throws Exception {
        daemon = start(false);
        transferShowsInEveryFigure();
        linkDownAndUpAgain();
    }

    @Test
    void linuxGatewayModeCountsATransferOnTheConfiguredWanInterfaceAndSeesTheLinkGoDown() throws Exception {
        daemon = start(true);
        transferShowsInEveryFigure();
        linkDownAndUpAgain();
    }

    private void transferShowsInEveryFigure() throws Exception {
        net.server(net.lan, "sink", "sink", LAN_A, "8085");
        net.natpmp("-a", "8085", "8085", "tcp", "600");
        JsonNode before = status().path("link");
        assertEquals(List.of("gwwan", "up"), List.of(before.path("interfaceName").asText(), before.path("state").asText()),
                before.toString());
        long rxBefore = soap(COMMON, "GetTotalBytesReceived", "NewTotalBytesReceived");
        long packetsBefore = soap(COMMON, "GetTotalPacketsReceived", "NewTotalPacketsReceived");
        long txBefore = soap(COMMON, "GetTotalBytesSent", "NewTotalBytesSent");
        int bytes = 3_000_000;

        assertEquals("got " + bytes, net.peer(net.wan, "send", GW_WAN, "8085", Integer.toString(bytes)));

        // the interface's counters: the payload plus headers went in (ui4: the difference is taken modulo 2^32)
        long rx = Math.floorMod(soap(COMMON, "GetTotalBytesReceived", "NewTotalBytesReceived") - rxBefore, UI4);
        assertTrue(rx >= bytes, "GetTotalBytesReceived rose by " + rx + ", less than the " + bytes + " bytes sent");
        long packets = Math.floorMod(soap(COMMON, "GetTotalPacketsReceived", "NewTotalPacketsReceived") - packetsBefore, UI4);
        assertTrue(packets >= bytes / 65_536, "packets in: " + packets);
        assertTrue(Math.floorMod(soap(COMMON, "GetTotalBytesSent", "NewTotalBytesSent") - txBefore, UI4) > 0, "acks went out");

        // the same counters, unwrapped, in the status API and in /metrics
        JsonNode after = status().path("link");
        assertTrue(after.path("bytesReceived").asLong() - before.path("bytesReceived").asLong() >= bytes, after.toString());
        assertTrue(Topology.metric(net.metrics(daemon), "natgw_wan_received_bytes_total") >= after.path("bytesReceived").asLong(), "metrics");
        assertEquals(1.0, Topology.metric(net.metrics(daemon), "natgw_wan_link_up"));
        // the kernel's speed in Mbit/s (a veth says 10000 or -1 depending on the kernel): in bit/s, saturated at ui4's
        // maximum, 0 when unknown (the spec's ui4 has no "unknown")
        Topology.Result speed = net.exec(net.gw, "cat", "/sys/class/net/gwwan/speed");
        long mbps = speed.exit() == 0 ? Long.parseLong(speed.output().trim()) : -1;
        long expected = mbps <= 0 ? 0 : Math.min(mbps * 1_000_000, UI4 - 1);
        assertEquals(Long.toString(expected), soapText(COMMON, "GetCommonLinkProperties", "NewLayer1DownstreamMaxBitRate"),
                "speed " + speed.output());
        assertEquals("Up", soapText(COMMON, "GetCommonLinkProperties", "NewPhysicalLinkStatus"));
    }

    private void linkDownAndUpAgain() throws Exception {
        String upStatus = upnpc("-s");
        assertTrue(upStatus.contains("Status : Connected"), upStatus);

        Topology.sh("ip", "-n", net.gw, "link", "set", "gwwan", "down");
        assertEquals("Disconnected", soapText(WANIP, "GetStatusInfo", "NewConnectionStatus"));
        assertEquals("ERROR_NO_CARRIER", soapText(WANIP, "GetStatusInfo", "NewLastConnectionError"));
        assertEquals("0", soapText(WANIP, "GetStatusInfo", "NewUptime"));
        assertEquals("Down", soapText(COMMON, "GetCommonLinkProperties", "NewPhysicalLinkStatus"));
        String downStatus = upnpc("-s");
        assertTrue(downStatus.contains("Status : Disconnected"), downStatus);
        assertEquals("down", status().path("link").path("state").asText());
        assertEquals(0.0, Topology.metric(net.metrics(daemon), "natgw_wan_link_up"));
        await("the sampler to log the change").atMost(CEILING).pollInterval(Duration.ofMillis(200))
                .until(() -> daemon.log().contains("WAN link gwwan is down"));

        Topology.sh("ip", "-n", net.gw, "link", "set", "gwwan", "up");
        await("the link to come back").atMost(CEILING).pollInterval(Duration.ofMillis(200))
                .until(() -> soapText(WANIP, "GetStatusInfo", "NewConnectionStatus").equals("Connected"));
        assertTrue(Long.parseLong(soapText(WANIP, "GetStatusInfo", "NewUptime")) < CEILING.toSeconds(),
                "uptime counts from the link coming back up");
        assertEquals("ERROR_NONE", soapText(WANIP, "GetStatusInfo", "NewLastConnectionError"));
    }

    /** upnpc from the LAN host, pointed at the IGD:1 description (its discovery skips a reserved external address). */
    String upnpc(String... args) {
        List<String> cmd = new ArrayList<>(List.of("upnpc", "-u", description().toString()));
        cmd.addAll(List.of(args));
        Topology.Result r = net.exec(net.lan, cmd.toArray(String[]::new));
        return r.output();
    }

    JsonNode status() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", Daemon.jar().toString(), "status", "--json",
                "-c", daemon.configFile().toString()));
        Topology.Result r = net.exec(net.gw, cmd.toArray(String[]::new));
        assertEquals(0, r.exit(), r.output());
        return new ObjectMapper().readTree(r.output());
    }


    java.net.URI description() {
        Matcher d = Pattern.compile("UPnP IGD:1 at (\\S+) and").matcher(daemon.log());
        assertTrue(d.find(), "no UPnP line in the daemon's log:\n" + daemon.logTail());
        return java.net.URI.create(d.group(1));
    }

    long soap(String service, String action, String output) {
        return Long.parseLong(soapText(service, action, output));
    }

    /** One SOAP action called from the LAN host as a UPnP client would: the named output. */
    String soapText(String service, String action, String output) {
        java.net.URI description = description();
        Topology.Result desc = net.exec(net.lan, "curl", "-s", "--max-time", "10", description.toString());
        assertEquals(0, desc.exit(), desc.output());
        Matcher c = Pattern.compile("<serviceType>" + Pattern.quote(service) + "</serviceType>.*?<controlURL>([^<]+)</controlURL>",
                Pattern.DOTALL).matcher(desc.output());
        assertTrue(c.find(), desc.output());
        Topology.Result r = net.exec(net.lan, "curl", "-s", "--max-time", "10", "-H", "Content-Type: text/xml; charset=\"utf-8\"",
                "-H", "SOAPAction: \"" + service + "#" + action + "\"", "--data-binary", io.natgw.igd.Soap.envelope(service, action),
                description.resolve(c.group(1)).toString());
        assertEquals(0, r.exit(), r.output());
        Matcher v = Pattern.compile("<" + output + ">([^<]*)</" + output + ">").matcher(r.output());
        assertTrue(v.find(), action + ": " + r.output());
        return v.group(1);
    }
}
