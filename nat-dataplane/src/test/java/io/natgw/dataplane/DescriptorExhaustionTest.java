package io.natgw.dataplane;

import io.natgw.conf.Protocol;
import io.natgw.core.Mapping;
import io.natgw.core.Outcome;
import io.natgw.core.RemoteFilter;
import io.natgw.testsupport.LogCapture;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.DatagramSocket;
import java.util.List;

import static io.natgw.dataplane.Fixture.LAN_HOST;
import static io.natgw.dataplane.Fixture.WAN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With the process out of descriptors (EMFILE, for real: {@link Descriptors}), binding a mapped port fails as a
 * {@code ForwardingException}: the table refuses the request and lists nothing, the dataplane holds no listener, and
 * the same request succeeds and relays once descriptors are back.
 */
class DescriptorExhaustionTest {

    static void requirePrlimit() {
        String missing = Descriptors.missing();
        if (missing != null && "1".equals(System.getenv("NATGW_REQUIRE_ALL"))) {
            throw new AssertionError("NATGW_REQUIRE_ALL=1 but " + missing);
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(missing == null, missing);
    }

    static int freePort(Protocol p) throws Exception {
        if (p == Protocol.TCP) {
            try (ServerSocket s = new ServerSocket(0, 1, WAN)) {
                return s.getLocalPort();
            }
        }
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(WAN, 0))) {
            return s.getLocalPort();
        }
    }

    /**
     * Runs the paths the test takes once with descriptors to spare: classes load from target/classes lazily, one open()
     * each, and would otherwise fail for want of a descriptor before the code under test is reached.
     */
    private static void warmUp(Fixture f, EchoServer echo, UdpRelayTest.UdpEcho udpEcho) throws Exception {
        // No connection: its sockets would close asynchronously and free descriptors while the test holds them all.
        f.delete(f.map(Protocol.TCP, echo.endpoint()));
        f.delete(f.map(Protocol.UDP, udpEcho.endpoint()));
        org.awaitility.Awaitility.await().until(() -> true); // its classes, loaded now
        try (ServerSocket squatter = new ServerSocket(0, 1, WAN);
             DatagramSocket udpSquatter = new DatagramSocket(new InetSocketAddress(WAN, 0))) {
            assertInstanceOf(Outcome.Refused.class, f.request(Protocol.TCP, squatter.getLocalPort(), echo.endpoint(), RemoteFilter.ANY));
            assertInstanceOf(Outcome.Refused.class, f.request(Protocol.UDP, udpSquatter.getLocalPort(), udpEcho.endpoint(), RemoteFilter.ANY));
        }
        assertTrue(f.table.view().mappings().isEmpty());
    }

    /**
     * The request, made while this JVM is out of descriptors. Another thread of the JVM may close a descriptor in the
     * middle (the JDK closes some lazily, e.g. a socket closed while a thread was blocked on it): then the bind finds
     * it and the mapping is granted, which proves nothing; such an attempt is undone and made again (at most 5 times).
     * Anything but a grant is returned as it is.
     */
    static Outcome underExhaustion(Fixture f, Protocol p, int port, io.natgw.core.Endpoint internal) throws Exception {
        Outcome o = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            try (Descriptors exhausted = Descriptors.exhaust()) {
                exhausted.topUp();
                o = f.request(p, port, internal, RemoteFilter.ANY);
            }
            if (!(o instanceof Outcome.Granted g)) {
                return o;
            }
            assertInstanceOf(Outcome.Deleted.class, f.delete(g.mapping()));
        }
        return o;
    }

    @Test
    void aBindOutOfDescriptorsIsRefusedLeavingNothingBoundOrListed() throws Exception {
        requirePrlimit();
        try (Fixture f = new Fixture("relay: copy"); EchoServer echo = new EchoServer("echo", LAN_HOST);
             UdpRelayTest.UdpEcho udpEcho = new UdpRelayTest.UdpEcho("u")) {
            warmUp(f, echo, udpEcho);
            int tcpPort = freePort(Protocol.TCP);
            int udpPort = freePort(Protocol.UDP);
            Outcome tcp = underExhaustion(f, Protocol.TCP, tcpPort, echo.endpoint());
            Outcome udp = underExhaustion(f, Protocol.UDP, udpPort, udpEcho.endpoint());
            assertEquals(Outcome.Reason.NO_RESOURCES, assertInstanceOf(Outcome.Refused.class, tcp).reason(), tcp.toString());
            assertEquals(Outcome.Reason.NO_RESOURCES, assertInstanceOf(Outcome.Refused.class, udp).reason(), udp.toString());
            assertTrue(f.table.view().mappings().isEmpty(), "nothing listed");
            assertNull(f.dataplane.listener(Protocol.TCP, tcpPort), "no TCP listener held");
            assertNull(f.dataplane.listener(Protocol.UDP, udpPort), "no UDP listener held");

            // Descriptors back: the same requests succeed and forward, and the rows are deletable.
            Mapping m = f.map(Protocol.TCP, tcpPort, echo.endpoint(), RemoteFilter.ANY);
            assertEquals("echo:again:eof", TcpRelayTest.exchange(WAN, tcpPort, null, "again"));
            Mapping u = f.map(Protocol.UDP, udpPort, udpEcho.endpoint(), RemoteFilter.ANY);
            assertInstanceOf(Outcome.Deleted.class, f.delete(m));
            assertInstanceOf(Outcome.Deleted.class, f.delete(u));
            assertTrue(f.table.view().mappings().isEmpty());
            try (ServerSocket again = new ServerSocket(tcpPort, 1, WAN)) {
                assertEquals(tcpPort, again.getLocalPort(), "the port was given back");
            }
        }
    }

    @Test
    void aConnectionArrivingOutOfDescriptorsWaitsWithoutAStackTraceAndIsRelayedOnceTheyAreBack() throws Exception {
        requirePrlimit();
        try (LogCapture log = LogCapture.root(); Fixture f = new Fixture("relay: copy");
             EchoServer echo = new EchoServer("echo", LAN_HOST); UdpRelayTest.UdpEcho udpEcho = new UdpRelayTest.UdpEcho("u")) {
            warmUp(f, echo, udpEcho);
            Mapping m = f.map(Protocol.TCP, echo.endpoint());
            boolean acceptFailed = false;
            // At most 5 attempts: a descriptor another thread frees meanwhile lets the accept succeed (see underExhaustion).
            for (int attempt = 0; attempt < 5 && !acceptFailed; attempt++) {
                java.net.Socket client = new java.net.Socket();
                try (client) {
                    client.bind(new InetSocketAddress(LAN_HOST, 0)); // its descriptor now: the relay's accept must fail
                    try (Descriptors exhausted = Descriptors.exhaust()) {
                        exhausted.topUp();
                        client.connect(new InetSocketAddress(WAN, m.externalPort()), 2000); // completes in the backlog
                        try {
                            org.awaitility.Awaitility.await("the accept to fail").atMost(java.time.Duration.ofSeconds(5))
                                    .until(() -> failedAccepts(log) > 0);
                            acceptFailed = true;
                        } catch (org.awaitility.core.ConditionTimeoutException acceptedAnyway) {
                            continue; // closes the client, gives the descriptors back and tries again
                        }
                    }
                    client.setSoTimeout(30_000);
                    assertEquals("echo:", new String(client.getInputStream().readNBytes(5), java.nio.charset.StandardCharsets.US_ASCII),
                            "accepted and relayed once descriptors are back");
                }
            }
            assertTrue(acceptFailed, "the accept never met EMFILE in 5 attempts");
            assertEquals(List.of(), log.stackTraces(), "no stack trace logged");
        }
    }

    /**
     * One descriptor left: the relay accepts the connection but has none for the backend. The client is closed at once,
     * the budget slot and the session are given back, nothing is logged with a stack trace, and the port relays again
     * once descriptors are back.
     */
    @Test
    void aConnectionWithNoDescriptorForItsBackendIsClosedAndGivesItsSlotBack() throws Exception {
        requirePrlimit();
        try (LogCapture log = LogCapture.root(); Fixture f = new Fixture("relay: copy");
             EchoServer echo = new EchoServer("echo", LAN_HOST); UdpRelayTest.UdpEcho udpEcho = new UdpRelayTest.UdpEcho("u")) {
            warmUp(f, echo, udpEcho);
            Mapping m = f.map(Protocol.TCP, echo.endpoint());
            assertEquals("echo:w:eof", TcpRelayTest.exchange(WAN, m.externalPort(), null, "w")); // the relay's classes
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> f.dataplane.of(m.key()).sessions() == 0);
            RelayBudget budget = f.dataplane.listener(Protocol.TCP, m.externalPort()).ctx.budget();
            boolean backendFailed = false;
            for (int attempt = 0; attempt < 5 && !backendFailed; attempt++) {
                long acceptsFailedBefore = failedAccepts(log);
                java.net.Socket client = new java.net.Socket();
                try (client) {
                    client.bind(new InetSocketAddress(LAN_HOST, 0));
                    client.setSoTimeout(5000);
                    try (Descriptors exhausted = Descriptors.exhaust()) {
                        exhausted.topUp();
                        exhausted.release(1); // the accepted socket takes it; the backend finds none
                        client.connect(new InetSocketAddress(WAN, m.externalPort()), 2000);
                        int first;
                        try {
                            first = client.getInputStream().read();
                        } catch (java.net.SocketTimeoutException acceptFailedAgain) {
                            continue; // an accept that failed again (logged once per minute only): try again
                        } catch (java.net.SocketException reset) {
                            first = -1;
                        }
                        if (failedAccepts(log) > acceptsFailedBefore || first != -1) {
                            // Another thread took the descriptor first (the accept failed) or freed one more (the
                            // backend got one and the connection was relayed): try again.
                            continue;
                        }
                        backendFailed = true;
                    }
                }
            }
            assertTrue(backendFailed, "the backend never met EMFILE in 5 attempts");
            org.awaitility.Awaitility.await("the slot and the session to be given back").atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> budget.tcpOpen() == 0 && f.dataplane.of(m.key()).sessions() == 0);
            assertEquals("echo:again:eof", TcpRelayTest.exchange(WAN, m.externalPort(), null, "again"));
            assertEquals(List.of(), log.stackTraces(), "no stack trace logged");
        }
    }

    private static long failedAccepts(LogCapture log) {
        return log.events().stream().filter(e -> e.getFormattedMessage().contains("cannot accept")).count();
    }
}
