package io.natgw.dataplane;

import ch.qos.logback.classic.Level;
import io.natgw.conf.Protocol;
import io.natgw.core.Mapping;
import io.natgw.testsupport.LogCapture;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static io.natgw.dataplane.Fixture.LAN_HOST;
import static io.natgw.dataplane.Fixture.WAN;
import static io.natgw.dataplane.Fixture.addr;
import static io.natgw.dataplane.UdpRelayTest.UdpEcho;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The relay budgets ({@code dataplane.tcpConnections*}, {@code udpSessions*}): a newcomer over budget is refused at
 * once while established connections run on, a port at its cap stops accepting and resumes as connections close, and a
 * budget that is hit warns once per period, not per connection.
 */
class RelayBudgetTest {

    /** A ceiling that only catches a hang (a loaded 2-core CI machine can take seconds). */
    private static final Duration CEILING = Duration.ofSeconds(30);

    /** Connects from {@code from} and reads the echo server's greeting: the connection is relayed. */
    static Socket relayed(int port, String from) throws IOException {
        Socket s = open(port, from);
        assertEquals("echo:", new String(s.getInputStream().readNBytes(5), StandardCharsets.US_ASCII), "relayed");
        return s;
    }

    static Socket open(int port, String from) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(addr(from), 0));
        s.connect(new InetSocketAddress(WAN, port), 2000);
        s.setSoTimeout((int) CEILING.toMillis());
        return s;
    }

    /** The connection is refused at once: reset (on loopback the RST may beat connect()) or closed, never relayed. */
    static void assertRefused(int port, String from) throws IOException {
        Socket s;
        try {
            s = open(port, from);
        } catch (SocketException resetWhileConnecting) {
            return;
        }
        try (s) {
            assertEquals(-1, s.getInputStream().read(), "closed without being relayed");
        } catch (SocketTimeoutException hang) {
            throw new AssertionError("neither relayed nor refused", hang);
        } catch (SocketException reset) {
            // refused with RST, as intended
        }
    }

    static void assertEchoes(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        assertEquals(text, new String(s.getInputStream().readNBytes(text.length()), StandardCharsets.US_ASCII));
    }

    static TcpListener tcp(Fixture f, Mapping m) {
        return (TcpListener) f.dataplane.listener(Protocol.TCP, m.externalPort());
    }

    @Test
    void aPeerOverItsBudgetIsRefusedAtOnceWhileItsOtherConnectionsAndOtherPeersRunOn() throws Exception {
        try (Fixture f = new Fixture("relay: copy\ntcpConnectionsPerPeer: 2"); EchoServer echo = new EchoServer("echo", LAN_HOST)) {
            Mapping m = f.map(Protocol.TCP, echo.endpoint());
            int port = m.externalPort();
            try (Socket a1 = relayed(port, "127.0.0.2"); Socket a2 = relayed(port, "127.0.0.2")) {
                assertRefused(port, "127.0.0.2");
                assertTrue(tcp(f, m).accepting(), "a peer's budget does not stop the port");
                try (Socket b = relayed(port, "127.0.0.3")) {
                    assertEchoes(a1, "still");
                    assertEchoes(a2, "here");
                    assertEchoes(b, "other");
                }
                a1.close();
                await().atMost(CEILING).until(() -> tcp(f, m).ctx.budget().tcpOpen() == 1);
                try (Socket a3 = relayed(port, "127.0.0.2")) {
                    assertEchoes(a3, "room again");
                }
            }
            assertEquals(4, echo.peers.size(), "the refused connection never reached the internal host");
        }
    }

    @Test
    void aMappingAtItsCapStopsAcceptingAndResumesAsConnectionsClose() throws Exception {
        try (LogCapture log = new LogCapture(RelayBudget.class); Fixture f = new Fixture("relay: copy\ntcpConnectionsPerMapping: 2");
             EchoServer echo = new EchoServer("echo", LAN_HOST)) {
            Mapping m = f.map(Protocol.TCP, echo.endpoint());
            Mapping other = f.map(Protocol.TCP, echo.endpoint());
            int port = m.externalPort();
            Socket a1 = relayed(port, "127.0.0.2");
            try (Socket a2 = relayed(port, "127.0.0.3")) {
                await().atMost(CEILING).until(() -> !tcp(f, m).accepting());
                // Waits in the kernel's backlog: connected, but not accepted (and not accepted-and-closed).
                try (Socket waiting = open(port, "127.0.0.4")) {
                    assertEquals(2, echo.peers.size());
                    try (Socket elsewhere = relayed(other.externalPort(), "127.0.0.4")) {
                        assertEchoes(elsewhere, "another mapping is not held up");
                    }
                    assertEchoes(a2, "established ones run on");
                    a1.close();
                    assertEquals("echo:", new String(waiting.getInputStream().readNBytes(5), StandardCharsets.US_ASCII),
                            "accepted and relayed once a connection closed");
                    assertEchoes(waiting, "late");
                    await().atMost(CEILING).until(() -> !tcp(f, m).accepting()); // full again
                }
                await().atMost(CEILING).until(() -> tcp(f, m).accepting());
            }
            List<String> warnings = log.lines(Level.WARN);
            assertEquals(1, warnings.size(), "pausing at the cap is warned about, once: " + warnings);
            assertTrue(warnings.get(0).contains("dataplane.tcpConnectionsPerMapping: 2"), warnings.get(0));
        }
    }

    @Test
    void portsPastTheTotalStopAcceptingAndClosingAnyConnectionResumesThem() throws Exception {
        try (Fixture f = new Fixture("relay: copy\ntcpConnections: 2"); EchoServer echo = new EchoServer("echo", LAN_HOST)) {
            Mapping m1 = f.map(Protocol.TCP, echo.endpoint());
            Mapping m2 = f.map(Protocol.TCP, echo.endpoint());
            Mapping m3 = f.map(Protocol.TCP, echo.endpoint());
            try (Socket a = relayed(m1.externalPort(), "127.0.0.2")) {
                Socket b = relayed(m2.externalPort(), "127.0.0.3");
                await().atMost(CEILING).until(() -> !tcp(f, m2).accepting()); // it took the last slot
                // Another port's first newcomer past the total is refused, and that port stops accepting too.
                assertRefused(m3.externalPort(), "127.0.0.4");
                await().atMost(CEILING).until(() -> !tcp(f, m3).accepting());
                assertEquals(2, tcp(f, m1).ctx.budget().tcpOpen());
                b.close();
                await().atMost(CEILING).until(() -> tcp(f, m2).accepting() && tcp(f, m3).accepting());
                try (Socket c = relayed(m3.externalPort(), "127.0.0.4")) {
                    assertEchoes(c, "resumed");
                    assertEchoes(a, "untouched");
                }
            }
        }
    }

    @Test
    void udpSessionsInTotalAreBoundedAcrossMappings() throws Exception {
        try (Fixture f = new Fixture("relay: copy\nudpSessions: 2"); UdpEcho echo = new UdpEcho("echo");
             DatagramSocket a = UdpRelayTest.peer("127.0.0.2", 30_000);
             DatagramSocket b = UdpRelayTest.peer("127.0.0.3", 30_000);
             DatagramSocket c = UdpRelayTest.peer("127.0.0.4", 300)) {
            Mapping m1 = f.map(Protocol.UDP, echo.endpoint());
            Mapping m2 = f.map(Protocol.UDP, echo.endpoint());
            assertEquals("echo:a", UdpRelayTest.ask(a, m1.externalPort(), "a")[0]);
            assertEquals("echo:b", UdpRelayTest.ask(b, m2.externalPort(), "b")[0]);
            assertThrows(SocketTimeoutException.class, () -> UdpRelayTest.ask(c, m2.externalPort(), "c"), "over the total");
            assertEquals("echo:a2", UdpRelayTest.ask(a, m1.externalPort(), "a2")[0], "established sessions run on");
            assertEquals(2, f.dataplane.listener(Protocol.UDP, m1.externalPort()).ctx.budget().udpOpen());

            f.clock.advance(Duration.ofSeconds(121));
            assertEquals(1, ((UdpListener) f.dataplane.listener(Protocol.UDP, m2.externalPort())).sweepIdle().get());
            c.setSoTimeout(30_000);
            await().atMost(CEILING).until(() -> f.dataplane.listener(Protocol.UDP, m2.externalPort()).ctx.budget().udpOpen() == 1);
            assertEquals("echo:c", UdpRelayTest.ask(c, m2.externalPort(), "c")[0]);
        }
    }

    @Test
    void aBudgetHitWarnsOncePerPeriodNotPerConnection() throws Exception {
        try (LogCapture log = new LogCapture(RelayBudget.class); Fixture f = new Fixture("relay: copy\ntcpConnectionsPerPeer: 1"); EchoServer echo = new EchoServer("echo", LAN_HOST);
             Socket held = relayed(f.map(Protocol.TCP, echo.endpoint()).externalPort(), "127.0.0.2")) {
            int port = held.getPort();
            for (int i = 0; i < 10; i++) {
                assertRefused(port, "127.0.0.2");
            }
            List<String> warnings = log.lines(Level.WARN);
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).contains("dataplane.tcpConnectionsPerPeer: 1"), warnings.get(0));
            assertEquals(List.of(), log.stackTraces(), "no stack trace");

            f.clock.advance(RelayBudget.WARN_PERIOD);
            assertRefused(port, "127.0.0.2");
            warnings = log.lines(Level.WARN);
            assertEquals(2, warnings.size(), warnings.toString());
            assertTrue(warnings.get(1).contains("10 newcomer(s) refused"), "the held-back refusals are counted: " + warnings.get(1));
        }
    }

    @Test
    void budgetsThatCouldExhaustTheDescriptorLimitAreWarnedAbout() {
        assertEquals(null, RelayBudget.descriptorWarning(io.natgw.conf.NatgwConfig.RelayBudgets.DEFAULTS, 20_000),
                "the defaults fit a 20 000 limit with room for the control plane");
        String w = RelayBudget.descriptorWarning(new io.natgw.conf.NatgwConfig.RelayBudgets(10_000, 1000, 200, 2000), 20_000);
        assertTrue(w != null && w.contains("allow 22000 descriptors") && w.contains("open-files limit is 20000"), w);
        assertEquals(null, RelayBudget.descriptorWarning(io.natgw.conf.NatgwConfig.RelayBudgets.DEFAULTS, -1), "limit unknown");
    }
}
