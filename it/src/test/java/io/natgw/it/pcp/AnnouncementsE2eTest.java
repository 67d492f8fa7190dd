package io.natgw.it.pcp;

import io.natgw.it.support.Daemon;
import io.natgw.it.support.Require;
import io.natgw.pcp.NatPmpCodec;
import io.natgw.pcp.NatPmpResponse;
import io.natgw.pcp.NatPmpResultCode;
import io.natgw.pcp.PcpCodec;
import io.natgw.pcp.PcpOpcodeData;
import io.natgw.pcp.PcpResponse;
import io.natgw.pcp.PcpResultCode;
import io.natgw.testsupport.Command;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real announcement path (RFC 6886 §3.2.1, RFC 6887 §14.1.3): the daemon runs in a gateway namespace with
 * announcements on, and a host on the namespace LAN, listening on 224.0.0.1:5350, receives and decodes what it
 * sends when it starts: a NAT-PMP external address answer and a PCP ANNOUNCE, from the gateway's LAN address
 * and port 5351, and again in the next round of the back-off.
 *
 * <pre>
 *   lan  lan0 192.168.77.10 ── veth ── gw  gwlan 192.168.77.1 (natgw's LAN address), lo 203.0.113.1 (its WAN address)
 * </pre>
 * The namespaces are named per run and removed even when the test fails (a minimal copy of the dataplane
 * tests' Topology, which stays as it is).
 */
class AnnouncementsE2eTest {

    static final String LAN_HOST = "192.168.77.10";
    static final String GW_LAN = "192.168.77.1";
    static final String GW_WAN = "203.0.113.1";
    private static final AtomicInteger RUNS = new AtomicInteger();

    @Test
    void aLanHostReceivesAndDecodesTheStartupAnnouncementsOn224001Port5350() throws Exception {
        Require.netns();
        String id = "ngwann" + ProcessHandle.current().pid() + "x" + RUNS.incrementAndGet();
        String lan = id + "-lan";
        String gw = id + "-gw";
        Path work = Files.createTempDirectory("natgw-it-announce-");
        Process listener = null;
        try {
            for (String ns : List.of(lan, gw)) {
                sh("ip", "netns", "add", ns);
                sh("ip", "-n", ns, "link", "set", "lo", "up");
            }
            sh("ip", "-n", lan, "link", "add", "lan0", "type", "veth", "peer", "name", "gwlan", "netns", gw);
            sh("ip", "-n", lan, "addr", "add", LAN_HOST + "/24", "dev", "lan0");
            sh("ip", "-n", gw, "addr", "add", GW_LAN + "/24", "dev", "gwlan");
            sh("ip", "-n", gw, "addr", "add", GW_WAN + "/32", "dev", "lo");
            sh("ip", "-n", lan, "link", "set", "lan0", "up");
            sh("ip", "-n", gw, "link", "set", "gwlan", "up");

            // the LAN host listens first: the first round goes out as the daemon starts
            Path heard = work.resolve("listener.log");
            listener = new ProcessBuilder("ip", "netns", "exec", lan, Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx32m", "-cp", testClasses(),
                    AnnouncementListener.class.getName(), "lan0", "4", "60")
                    .redirectErrorStream(true).redirectOutput(heard.toFile()).start();
            Process l = listener;
            await("the LAN host to listen").atMost(Duration.ofSeconds(60)).until(() -> {
                if (!l.isAlive()) {
                    throw new IllegalStateException("the listener exited: " + Files.readString(heard));
                }
                return Files.readString(heard).contains("ready");
            });

            try (Daemon d = Daemon.builder().prefix("ip", "netns", "exec", gw).workDir(work.resolve("daemon"))
                    .set("network.lan.addresses", List.of(GW_LAN))
                    .set("network.lan.clients", List.of("192.168.77.0/24"))
                    .set("network.wan.address", GW_WAN)
                    .set("pcp.announce", true)
                    .set("upnp.enabled", false)
                    .set("admin.enabled", false)
                    .set("triggers", List.of())
                    .start()) {
                // two rounds (the second 250 ms after the first): 4 datagrams, then the listener exits
                assertTrue(listener.waitFor(90, TimeUnit.SECONDS), "the LAN host heard 4 announcements: " + Files.readString(heard));
                assertEquals(0, listener.exitValue(), Files.readString(heard) + "\ndaemon:\n" + d.logTail());
            }

            List<String> natPmp = new ArrayList<>();
            List<String> pcp = new ArrayList<>();
            for (String line : Files.readAllLines(heard)) {
                if (!line.startsWith("FROM ")) {
                    continue;
                }
                String[] f = line.split(" ");
                assertEquals(GW_LAN + ":5351", f[1], "sent from the gateway's LAN address and the server port: " + line);
                byte[] datagram = HexFormat.of().parseHex(f[2]);
                if (datagram.length > 0 && datagram[0] == 0) {
                    NatPmpResponse r = NatPmpCodec.decodeResponse(ByteBuffer.wrap(datagram));
                    NatPmpResponse.ExternalAddress a = assertInstanceOf(NatPmpResponse.ExternalAddress.class, r, line);
                    assertEquals(NatPmpResultCode.SUCCESS, a.result());
                    assertEquals((Inet4Address) InetAddress.getByName(GW_WAN), a.address());
                    assertTrue(a.epoch() < 3600, "a fresh epoch after the first start: " + a.epoch());
                    natPmp.add(line);
                } else {
                    PcpResponse r = PcpCodec.decodeResponse(ByteBuffer.wrap(datagram));
                    assertEquals(PcpResultCode.SUCCESS, r.result(), line);
                    assertInstanceOf(PcpOpcodeData.Announce.class, r.data(), line);
                    pcp.add(line);
                }
            }
            assertEquals(List.of(2, 2), List.of(natPmp.size(), pcp.size()), "two rounds of NAT-PMP and PCP announcements");
        } finally {
            if (listener != null && listener.isAlive()) {
                listener.destroyForcibly();
            }
            for (String ns : List.of(lan, gw)) {
                Command.run(Duration.ofSeconds(30), "ip", "netns", "del", ns);
            }
        }
    }

    private static void sh(String... cmd) {
        Command.Result r = Command.run(Duration.ofSeconds(30), cmd);
        if (r.exit() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + r);
        }
    }

    private static String testClasses() throws URISyntaxException {
        return Path.of(AnnouncementListener.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
