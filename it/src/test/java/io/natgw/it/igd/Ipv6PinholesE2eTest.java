package io.natgw.it.igd;

import io.natgw.it.dataplane.Topology;
import io.natgw.it.support.Daemon;
import io.natgw.it.support.Require;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
 * UPnP over IPv6 on a router between network namespaces (LAN fd00:77::/64, WAN 2001:db8:113::/64 routed to the LAN
 * through the gateway): miniupnpc's {@code upnpc -6} finds the IGD by SSDP on ff02::c and drives
 * WANIPv6FirewallControl:1 over HTTP on the gateway's IPv6 LAN address with every pinhole command (-S -G -A -U -K
 * -C -D); the HTTP server also answers on the gateway's link-local address with the client's zone. In linux-gateway
 * mode with kernel forwarding a pinhole lets the WAN host in, and nothing does once it is deleted; in userspace
 * mode no pinhole is ever granted (702 FirewallDisabled, nothing in the table); the spec's codes for bad input.
 */
class Ipv6PinholesE2eTest {

    private static final int HTTP_PORT = 5000;
    private static final String FC = "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1";
    private static final Pattern DESC = Pattern.compile("desc: (http://\\S+)");

    Topology net;
    Daemon daemon;

    @BeforeEach
    void topology() throws Exception {
        net = Topology.forDaemon("upnpc", "curl");
    }

    @AfterEach
    void teardown() {
        Topology.close(daemon, net);
    }

    Daemon.Builder builder(String mode) {
        return net.gatewayDaemon6()
                .set("network.wan.interface", "gwwan")
                .set("upnp.enabled", true)
                .set("upnp.ssdp", true)
                .set("upnp.httpPort", HTTP_PORT)
                .set("admin.enabled", false)
                .set("pcp.enabled", false)
                .set("dataplane.mode", mode);
    }

    /** upnpc in the LAN namespace over IPv6, on an IGD found by SSDP (ff02::c on lan0); it must exit 0. */
    String discover(String... args) {
        List<String> cmd = new ArrayList<>(List.of("upnpc", "-6", "-i", "-m", "lan0"));
        cmd.addAll(List.of(args));
        return ok(net.exec(net.lan, cmd.toArray(String[]::new)), cmd);
    }

    /** upnpc in the LAN namespace on the IGD at {@code desc}; it must exit 0 (it does when the action fails too). */
    String upnpc(String desc, String... args) {
        List<String> cmd = new ArrayList<>(List.of("upnpc", "-6", "-i", "-u", desc));
        cmd.addAll(List.of(args));
        return ok(net.exec(net.lan, cmd.toArray(String[]::new)), cmd);
    }

    private String ok(Topology.Result r, List<String> cmd) {
        assertEquals(0, r.exit(), String.join(" ", cmd) + ":\n" + r.output() + "\n" + daemon.logTail());
        return r.output();
    }

    /** The IGD:2 description URL upnpc found by SSDP over IPv6 (also checks the answer names no zone). */
    String discoveredIgd2() {
        String out = discover("-S");
        Matcher m = DESC.matcher(out);
        assertTrue(m.find(), "upnpc found a device by SSDP over IPv6:\n" + out);
        String desc = m.group(1);
        assertTrue(desc.startsWith("http://[fd00:77:0:0:0:0:0:1]:" + HTTP_PORT + "/"),
                "the LOCATION is the gateway's ULA, bracketed, without a zone: " + desc);
        assertTrue(out.contains("InternetGatewayDevice") || out.contains("WANIPConnection"), out);
        return desc;
    }

    /**
     * A SOAP call to WANIPv6FirewallControl from a chosen LAN address of the LAN namespace (curl --interface),
     * answered with the UPnP error code (0: success).
     */
    int soapFrom(String source, String control, String action, String args) {
        String body = "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\""
                + " s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:" + action + " xmlns:u=\""
                + FC + "\">" + args + "</u:" + action + "></s:Body></s:Envelope>";
        Topology.Result r = net.exec(net.lan, "curl", "-g", "-s", "-S", "--max-time", "10", "--interface", source,
                "-H", "Content-Type: text/xml; charset=\"utf-8\"", "-H", "SOAPAction: \"" + FC + "#" + action + "\"",
                "--data-binary", body, "-w", "\nHTTP %{http_code}", control);
        assertEquals(0, r.exit(), r.output());
        Matcher e = Pattern.compile("<errorCode>(\\d+)</errorCode>").matcher(r.output());
        if (e.find()) {
            return Integer.parseInt(e.group(1));
        }
        assertTrue(r.output().endsWith("HTTP 200"), r.output());
        return 0;
    }

    /** The control URL of WANIPv6FirewallControl in the description at {@code desc}, read in the LAN namespace. */
    String firewallControl(String desc) {
        Topology.Result r = net.exec(net.lan, "curl", "-g", "-s", "-S", "--max-time", "10", desc);
        assertEquals(0, r.exit(), r.output());
        Matcher m = Pattern.compile("<serviceType>" + Pattern.quote(FC) + "</serviceType>.*?<controlURL>([^<]+)</controlURL>",
                Pattern.DOTALL).matcher(r.output());
        assertTrue(m.find(), "IGD:2 has WANIPv6FirewallControl:1:\n" + r.output());
        return java.net.URI.create(desc).resolve(m.group(1)).toString();
    }

    /** One M-SEARCH for IGD:1 to ff02::c out of {@code dev} in {@code ns}: the answers of the next 3 s, then "done N". */
    String search(String ns, String dev) throws Exception {
        Topology.Result r = net.exec(ns, Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx32m",
                "-cp", Path.of(SsdpSearch.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString(),
                SsdpSearch.class.getName(), "ff02::c", dev, "3", "urn:schemas-upnp-org:device:InternetGatewayDevice:1");
        assertEquals(0, r.exit(), r.output());
        return r.output();
    }

    /** The first link-local address of {@code dev} in {@code ns}. */
    String linkLocal(String ns, String dev) {
        Topology.Result r = net.exec(ns, "ip", "-6", "-o", "addr", "show", "dev", dev, "scope", "link");
        Matcher m = Pattern.compile("inet6 (fe80:[0-9a-f:]+)/").matcher(r.output());
        assertTrue(m.find(), r.output());
        return m.group(1);
    }

    @Test
    void upnpcFindsTheIgdOverIpv6AndUserspaceModeGrantsNoPinhole() {
        daemon = builder("userspace").start();
        String desc = discoveredIgd2();

        String status = upnpc(desc, "-S");
        assertTrue(status.contains("Firewall Enabled: No") && status.contains("Inbound Pinhole Allowed: No"),
                "userspace mode forwards no pinhole and says so:\n" + status);

        String add = upnpc(desc, "-A", WAN_HOST6, "0", "@", "8080", "TCP", "3600");
        assertTrue(add.contains("failed with code 702"), "AddPinhole: 702 FirewallDisabled:\n" + add);
        assertFalse(daemon.log().contains("opened pinhole"), "the table holds no pinhole:\n" + daemon.logTail());
        assertTrue(daemon.log().contains("refusing IPv6 pinholes: only linux-gateway mode with kernel forwarding"),
                "the refusal's log line names linux-gateway mode:\n" + daemon.logTail());

        String timeout = upnpc(desc, "-G", WAN_HOST6, "0", "@", "8080", "6");
        assertTrue(timeout.contains("failed with code 702"), timeout);
        String packets = upnpc(desc, "-K", "1");
        assertTrue(packets.contains("failed with code 702"), packets);
        String check = upnpc(desc, "-C", "1");
        assertTrue(check.contains("failed with code 702"), check);
        String update = upnpc(desc, "-U", "1", "600");
        assertTrue(update.contains("failed with code 702") && !update.contains("UpdatePinhole: Pinhole ID"),
                "-U checks the pinhole first (702) and updates nothing:\n" + update);
        String delete = upnpc(desc, "-D", "1");
        assertTrue(delete.contains("UPNP_DeletePinhole() returned : 702"), delete);

        // bad input gets the spec's code before any dataplane question (no side effect either way)
        assertTrue(upnpc(desc, "-A", WAN_HOST6, "0", "@", "8080", "65535", "3600").contains("failed with code 707"),
                "wildcard protocol: 707");
        assertTrue(upnpc(desc, "-A", WAN_HOST6, "0", "@", "0", "TCP", "3600").contains("failed with code 706"),
                "internal port 0: 706");
        assertTrue(upnpc(desc, "-A", WAN_HOST6, "0", "@", "8080", "TCP", "0").contains("failed with code 402"),
                "lease 0: 402");
        assertTrue(upnpc(desc, "-A", WAN_HOST6, "0", "@", "8080", "TCP", "86401").contains("failed with code 402"),
                "lease over a day: 402");
        assertTrue(upnpc(desc, "-A", WAN_HOST6, "0", "@", "8080", "132", "3600").contains("failed with code 705"),
                "SCTP: 705");
        assertFalse(daemon.log().contains("opened pinhole"), daemon.logTail());
    }

    @Test
    void httpAnswersOnTheGatewaysLinkLocalAddressWithTheClientsZone() {
        daemon = builder("userspace").start();
        String desc = discoveredIgd2();
        String path = java.net.URI.create(desc).getRawPath();
        String url = "http://[" + linkLocal(net.gw, "gwlan") + "%25lan0]:" + HTTP_PORT + path;
        Topology.Result r = net.exec(net.lan, "curl", "-g", "-s", "-S", "--max-time", "10", url);
        assertEquals(0, r.exit(), url + ": " + r.output());
        assertTrue(r.output().contains(FC), "the IGD:2 description over link-local:\n" + r.output());
        String status = upnpc(url, "-S");
        assertTrue(status.contains("Firewall Enabled: No"), "upnpc works on the link-local URL with a zone:\n" + status);
        assertTrue(daemon.log().contains("IGD:2 at http://[fe80:"), "the daemon logs its link-local URL:\n"
                + daemon.logTail());
    }

    /**
     * SSDP NOTIFYs reach the LAN on ff02::c naming the gateway's IPv6 addresses (bracketed, no zone; never an IPv4
     * LOCATION there), and nothing answers the WAN side: no search over IPv6 from the WAN link, no HTTP from a WAN
     * host although it can route to the gateway's ULA.
     */
    @Test
    void notifiesGoToFf02cAndTheWanSideFindsNothing() throws Exception {
        Path heard = net.work.resolve("ssdp-lan0.log");
        List<String> cmd = List.of("ip", "netns", "exec", net.lan, Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx32m", "-cp", Path.of(SsdpListen.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString(),
                SsdpListen.class.getName(), "ff02::c", "lan0", "60", "500");
        Process listener = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(heard.toFile())).start();
        try {
            await("the SSDP listener").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                    .until(() -> Files.readString(heard).contains("ready"));
            daemon = builder("userspace").start();
            String alive = "NTS: ssdp:alive|";
            await("a NOTIFY on ff02::c").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                    .until(() -> Files.readString(heard).contains("LOCATION: http://[fd00:77:0:0:0:0:0:1]:" + HTTP_PORT + "/"));
            List<String> notifies = Files.readAllLines(heard).stream().filter(l -> l.contains("NOTIFY * HTTP/1.1")).toList();
            assertTrue(notifies.stream().anyMatch(l -> l.contains(alive)), String.join("\n", notifies));
            for (String n : notifies) {
                Matcher location = Pattern.compile("LOCATION: (\\S+?)\\|").matcher(n);
                assertTrue(location.find() && location.group(1).startsWith("http://[") && !location.group(1).contains("%"),
                        "an IPv6 NOTIFY names a bracketed IPv6 LOCATION without a zone: " + n);
            }
        } finally {
            listener.destroy();
            listener.waitFor();
        }

        String fromLan = search(net.lan, "lan0");
        assertTrue(fromLan.contains("LOCATION: http://[fd00:77:0:0:0:0:0:1]:" + HTTP_PORT + "/"), "the LAN is answered: " + fromLan);
        String fromWan = search(net.wan, "wan0");
        assertTrue(fromWan.endsWith("done 0"), "a search from the WAN link gets no answer: " + fromWan);
        String desc = discoveredIgd2();
        Topology.Result http = net.exec(net.wan, "curl", "-g", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                "--max-time", "5", desc);
        assertTrue(http.exit() != 0 && !http.output().contains("200"),
                "the WAN host routes to " + desc + " but gets no answer: exit " + http.exit() + " " + http.output());
    }

    /**
     * Pinholes in linux-gateway mode with kernel forwarding (natgw's nftables table drops other inbound IPv6): upnpc
     * opens one, the WAN host reaches the LAN host through it and not after upnpc deleted it; its packet counter
     * is the kernel's; another LAN host may not update or delete it.
     */
    @Test
    void aWanHostReachesTheLanHostThroughAPinholeAndNotAfterItIsDeleted() {
        Require.tool("nft");
        net.server(net.lan, "echo", "echo", "::", "8080");
        daemon = builder("linux-gateway").start();
        String desc = discoveredIgd2();
        String before = net.peer(net.wan, "forwards", LAN_A6, "8080");
        assertFalse(before.contains("tcp=t8080"), "no pinhole, no way in: " + before);

        String status = upnpc(desc, "-S");
        assertTrue(status.contains("Firewall Enabled: Yes") && status.contains("Inbound Pinhole Allowed: Yes"), status);

        String add = upnpc(desc, "-A", WAN_HOST6, "0", "@", "8080", "TCP", "3600");
        Matcher m = Pattern.compile("-> \\[([0-9a-f:]+)\\]:8080\\) / Pinhole ID = (\\d+)").matcher(add);
        assertTrue(m.find(), add);
        String internal = m.group(1);
        String id = m.group(2);
        assertTrue(upnpc(desc, "-K", id).contains("PinholePackets = 0"), "nothing passed yet");
        assertTrue(upnpc(desc, "-C", id).contains("failed with code 709"), "709 NoPacketSent before any packet");

        String through = net.peer(net.wan, "forwards", internal, "8080");
        assertTrue(through.startsWith("8080 tcp=t8080"), "the WAN host reaches the LAN host through the pinhole: " + through);
        Pattern counted = Pattern.compile("PinholePackets = [1-9]\\d*");
        await("the kernel's packet counter").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500))
                .until(() -> counted.matcher(upnpc(desc, "-K", id)).find());
        assertTrue(upnpc(desc, "-C", id).contains("IsWorking = Yes"));

        String update = upnpc(desc, "-U", id, "7200");
        assertTrue(update.contains("UpdatePinhole: Pinhole ID = " + id) && !update.contains("UpdatePinhole: ID"), update);
        String timeout = upnpc(desc, "-G", WAN_HOST6, "0", "@", "8080", "6");
        String established = net.exec(net.gw, "cat", "/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established").output();
        assertTrue(timeout.contains("Timeout = " + established.trim()), timeout + " vs " + established);

        String control = firewallControl(desc);
        String other = internal.equals(LAN_A6) ? LAN_B6 : LAN_A6;
        assertEquals(606, soapFrom(other, control, "DeletePinhole", "<UniqueID>" + id + "</UniqueID>"),
                "another client's UniqueID: 606");
        assertEquals(606, soapFrom(other, control, "UpdatePinhole", "<UniqueID>" + id + "</UniqueID><NewLeaseTime>60</NewLeaseTime>"));
        assertEquals(704, soapFrom(internal, control, "DeletePinhole", "<UniqueID>65000</UniqueID>"), "unknown UniqueID: 704");
        assertTrue(net.peer(net.wan, "forwards", internal, "8080").startsWith("8080 tcp=t8080"), "still open");

        String delete = upnpc(desc, "-D", id);
        assertTrue(delete.contains("UPNP_DeletePinhole() returned : 0"), delete);
        String after = net.peer(net.wan, "forwards", internal, "8080");
        assertFalse(after.contains("tcp=t8080") || after.contains("udp=u8080"), "the deleted pinhole lets nothing in: " + after);
        assertTrue(upnpc(desc, "-K", id).contains("failed with code 704"));
    }
}
