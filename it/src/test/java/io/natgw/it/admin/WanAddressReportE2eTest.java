package io.natgw.it.admin;

import io.natgw.it.support.NatPmpProbe;
import io.natgw.igd.Descriptions;
import io.natgw.igd.Soap;
import io.natgw.it.support.Daemon;
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
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real daemon and what it tells clients about its WAN address (issue 15.2): network.wan.reportedAddress
 * is told over UPnP and NAT-PMP while mappings are bound, and reached, on the bind address 127.0.1.1 (before,
 * telling another address meant binding it, and every mapping failed with 728); and without
 * network.wan.allowPrivate the loopback WAN is reported as no address, with a status line and a log warning.
 */
class WanAddressReportE2eTest {

    private static final Pattern IGD_V2 = Pattern.compile("UPnP IGD:1 at \\S+ and IGD:2 at (\\S+?),");
    private static final InetAddress BIND = address("127.0.1.1");

    private static final InetAddress LAN = address("127.0.0.1");

    /** UPnP needs a LAN address an interface holds (127.0.0.1); NAT-PMP/PCP on a free UDP port. */
    private static Daemon start(Map<String, Object> wan, int pcpPort) throws IOException {
        Daemon.Builder b = Daemon.builder().set("upnp.httpPort", freePort()).set("upnp.ssdp", false)
                .set("pcp.port", pcpPort).set("pcp.announce", false).set("admin.port", freePort());
        wan.forEach((k, v) -> b.set("network.wan." + k, v));
        return b.start();
    }

    private static Soap soap(Daemon d) throws Exception {
        Matcher m = IGD_V2.matcher(d.log());
        assertTrue(m.find(), d.logTail());
        return new Soap(Descriptions.controlUrl(URI.create(m.group(1)), "urn:schemas-upnp-org:service:WANIPConnection:2"),
                "urn:schemas-upnp-org:service:WANIPConnection:2");
    }

    /** RFC 6886 §3.2: opcode 0; the answer is version, 128, result, epoch, address. */
    private static String natPmpExternal(int pcpPort, int expectResult) throws IOException {
        ByteBuffer b = natPmp(pcpPort, new byte[] {0, 0});
        assertEquals(12, b.limit());
        assertEquals(128, b.get(1) & 0xff);
        assertEquals(expectResult, b.getShort(2) & 0xffff);
        byte[] a = new byte[4];
        b.position(8);
        b.get(a);
        return InetAddress.getByAddress(a).getHostAddress();
    }

    private static ByteBuffer natPmp(int pcpPort, byte[] request) throws IOException {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(LAN, 0))) {
            s.setSoTimeout(30_000); // a ceiling that only catches a lost answer or a hang
            s.send(new DatagramPacket(request, request.length, new InetSocketAddress(LAN, pcpPort)));
            byte[] buf = new byte[64];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            s.receive(p);
            return ByteBuffer.wrap(java.util.Arrays.copyOf(buf, p.getLength()));
        }
    }

    @Test
    void reportedAddressIsToldAndMappingsWorkOnTheBindAddress() throws Exception {
        int pcpPort = freeUdpPort();
        try (Daemon d = start(Map.of("reportedAddress", "198.51.100.7", "allowPrivate", false), pcpPort);
             ServerSocket app = new ServerSocket(0, 8, address("127.0.0.1"))) {
            Soap soap = soap(d);
            assertEquals(Map.of("NewExternalIPAddress", "198.51.100.7"), soap.call("GetExternalIPAddress").outputs());
            assertEquals("198.51.100.7", natPmpExternal(pcpPort, 0));

            int external = ThreadLocalRandom.current().nextInt(42000, 43000);
            Soap.Result add = soap.call("AddPortMapping", "NewRemoteHost", "", "NewExternalPort", Integer.toString(external),
                    "NewProtocol", "TCP", "NewInternalPort", Integer.toString(app.getLocalPort()),
                    "NewInternalClient", "127.0.0.1", "NewEnabled", "1", "NewPortMappingDescription", "reported",
                    "NewLeaseDuration", "600");
            assertEquals(0, add.errorCode(), add.body());
            ByteBuffer natPmp = natPmp(pcpPort, NatPmpProbe.mapTcp(app.getLocalPort(), external + 1, 600));
            assertEquals(List.of(16, 130, 0), List.of(natPmp.limit(), natPmp.get(1) & 0xff, natPmp.getShort(2) & 0xffff));

            app.setSoTimeout(30_000);
            try (Socket outside = new Socket(BIND, external); Socket inside = app.accept()) {
                OutputStream o = outside.getOutputStream();
                o.write('x');
                o.flush();
                InputStream in = inside.getInputStream();
                inside.setSoTimeout(30_000);
                assertEquals('x', in.read()); // through the relay on the bind address
            }
            NatgwCli.Result status = NatgwCli.run(d.configFile(), "status");
            assertEquals(0, status.exit(), status.err());
            assertTrue(status.out().contains("external address  127.0.1.1") && status.out().contains("told to clients   198.51.100.7")
                    && !status.out().contains("WARNING"), status.out());
        }
    }

    @Test
    void loopbackWanWithoutAllowPrivateIsReportedAsNoAddress() throws Exception {
        int pcpPort = freeUdpPort();
        try (Daemon d = start(Map.of("allowPrivate", false), pcpPort)) {
            assertEquals("0.0.0.0", natPmpExternal(pcpPort, 3)); // NETWORK_FAILURE, as miniupnpd answers
            assertEquals(Map.of("NewExternalIPAddress", ""), soap(d).call("GetExternalIPAddress").outputs());
            String warning = "the external address 127.0.1.1 is loopback, not reachable from the Internet";
            assertTrue(d.log().lines().anyMatch(l -> l.contains("WARN") && l.contains(warning)), d.logTail());
            NatgwCli.Result status = NatgwCli.run(d.configFile(), "status");
            assertEquals(0, status.exit(), status.err());
            assertTrue(status.out().contains("WARNING           " + warning), status.out());
        }
    }

    /**
     * network.wan.stun against Debian coturn's turnserver (STUN only) on loopback: the daemon asks from its WAN
     * address 127.0.1.1, and the status shows the address the server saw.
     */
    @Test
    void stunLearnsTheAddressTheServerSeesAndStatusShowsIt() throws Exception {
        io.natgw.it.support.Require.tool("turnserver");
        int stunPort = freeUdpPort();
        Process turn = turnserver(stunPort);
        try {
            // the server answering before the daemon starts: the first round is answered
            org.awaitility.Awaitility.await("turnserver to answer STUN").atMost(java.time.Duration.ofSeconds(60))
                    .until(() -> turn.isAlive() && stunAnswers(stunPort));
            try (Daemon d = start(Map.of("stun", "127.0.0.1:" + stunPort), freeUdpPort())) {
                awaitStatus(d, "STUN sees         127.0.1.1");
                assertTrue(d.log().contains("STUN server 127.0.0.1:" + stunPort + " sees the WAN address 127.0.1.1 as 127.0.1.1"),
                        d.logTail());
            }
        } finally {
            stop(turn);
        }
    }

    /**
     * A router that starts before its upstream STUN server: natgw starts at once, its status says why there is no
     * STUN address (the first round of 4 requests went unanswered), and it keeps asking with backoff
     * (network.wan.stunRetry: 1) until the server, started only then, answers.
     */
    @Test
    void stunStartedAfterTheDaemonIsLearnedByItsRetries() throws Exception {
        io.natgw.it.support.Require.tool("turnserver");
        int stunPort = freeUdpPort();
        Process turn = null;
        try (Daemon d = start(Map.<String, Object>of("stun", "127.0.0.1:" + stunPort, "stunRetry", 1), freeUdpPort())) {
            String at = "STUN server 127.0.0.1:" + stunPort;
            awaitStatus(d, "STUN sees         nothing: " + at + ": no answer after 4 requests of 1 s; asking again in");
            assertTrue(d.log().lines().anyMatch(l -> l.contains("WARN") && l.contains(at + " gave no public address")), d.logTail());

            turn = turnserver(stunPort);
            awaitStatus(d, "STUN sees         127.0.1.1");
            assertTrue(d.log().contains(at + " sees the WAN address 127.0.1.1 as 127.0.1.1"), d.logTail());
            assertEquals(1, d.log().lines().filter(l -> l.contains(at + " gave no public address")).count(),
                    "one WARN for the unanswered rounds, not one per round: " + d.logTail());
        } finally {
            if (turn != null) {
                stop(turn);
            }
        }
    }

    private static void awaitStatus(Daemon d, String line) {
        org.awaitility.Awaitility.await(line).atMost(java.time.Duration.ofSeconds(90)).untilAsserted(() -> {
            NatgwCli.Result status = NatgwCli.run(d.configFile(), "status");
            assertEquals(0, status.exit(), status.err());
            assertTrue(status.out().contains(line), status.out());
        });
    }

    /** Debian coturn's turnserver answering STUN only on 127.0.0.1:port. */
    private static Process turnserver(int port) throws IOException {
        return new ProcessBuilder("turnserver", "-n", "--listening-ip=127.0.0.1", "--listening-port=" + port,
                "--stun-only", "--no-tls", "--no-dtls", "--no-cli", "--log-file=stdout", "--simple-log")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static void stop(Process turn) throws InterruptedException {
        turn.destroy(); // by its own handle (PID), never by name
        if (!turn.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
            turn.destroyForcibly();
        }
    }

    /** Whether a STUN Binding Request (RFC 5389: type 0x0001, no attributes) to 127.0.0.1:port gets an answer. */
    private static boolean stunAnswers(int port) throws IOException {
        byte[] request = ByteBuffer.allocate(20).putShort((short) 0x0001).putShort((short) 0).putInt(0x2112A442)
                .put(new byte[12]).array();
        for (int i = 8; i < 20; i++) {
            request[i] = (byte) ThreadLocalRandom.current().nextInt(256); // the transaction id
        }
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            s.setSoTimeout(500);
            s.send(new DatagramPacket(request, request.length, InetAddress.getLoopbackAddress(), port));
            DatagramPacket answer = new DatagramPacket(new byte[512], 512);
            s.receive(answer);
            return answer.getLength() >= 20 && java.util.Arrays.equals(answer.getData(), 8, 20, request, 8, 20);
        } catch (java.net.SocketTimeoutException | java.net.PortUnreachableException e) {
            return false;
        }
    }

    private static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
