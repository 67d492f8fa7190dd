package io.natgw.dataplane;

import io.natgw.conf.Protocol;
import io.natgw.core.Change;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.Origin;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.natgw.dataplane.Fixture.LAN_HOST;
import static io.natgw.dataplane.Fixture.WAN;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13: with epoll and NIO a mapping's socket (TCP: listening) is created and bound on the table's writer thread,
 * and handed to its event loop without waiting: granting a mapping costs no round trip through an event loop.
 */
class ListenerBindTest {

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    void aMappingIsGrantedAndListensWhileItsEventLoopIsBusy(String transport) throws Exception {
        TcpRelayTest.requireTransport(transport);
        try (Fixture f = new Fixture("relay: copy", "", oneLoop(transport)); EchoServer echo = new EchoServer("echo", LAN_HOST)) {
            Mapping first = f.map(Protocol.TCP, echo.endpoint());
            assertEquals(transport, f.dataplane.listener(Protocol.TCP, first.externalPort()).ctx.transport().name());
            whileTheLoopIsBusy(f.dataplane.listener(Protocol.TCP, first.externalPort()).eventLoop(), release -> {
                // A bind awaited on the event loop would wait for the 60 s ceiling here.
                Mapping second = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> f.map(Protocol.TCP, echo.endpoint()),
                        "the grant waited for the busy event loop");
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(WAN, second.externalPort()), 10_000); // the backlog holds it
                    s.setSoTimeout(30_000);
                    s.getOutputStream().write("x".getBytes(StandardCharsets.US_ASCII));
                    s.shutdownOutput();
                    release.countDown();
                    assertEquals("echo:x:eof", new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII),
                            "relayed once the event loop took the listener");
                }
            });
        }
    }

    /** The same for UDP: the socket is bound on the table's writer, and a datagram sent meanwhile waits in its buffer. */
    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    void aUdpMappingIsGrantedAndReceivesWhileItsEventLoopIsBusy(String transport) throws Exception {
        TcpRelayTest.requireTransport(transport);
        try (Fixture f = new Fixture("relay: copy", "", oneLoop(transport)); UdpRelayTest.UdpEcho echo = new UdpRelayTest.UdpEcho("echo");
             DatagramSocket peer = UdpRelayTest.peer("127.0.0.2", 30_000)) {
            Mapping first = f.map(Protocol.UDP, echo.endpoint());
            assertEquals(transport, f.dataplane.listener(Protocol.UDP, first.externalPort()).ctx.transport().name());
            whileTheLoopIsBusy(f.dataplane.listener(Protocol.UDP, first.externalPort()).eventLoop(), release -> {
                Mapping second = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> f.map(Protocol.UDP, echo.endpoint()),
                        "the grant waited for the busy event loop");
                byte[] out = "x".getBytes(StandardCharsets.US_ASCII);
                peer.send(new DatagramPacket(out, out.length, new InetSocketAddress(WAN, second.externalPort())));
                release.countDown();
                DatagramPacket in = new DatagramPacket(new byte[64], 64);
                peer.receive(in);
                assertEquals("echo:x", new String(in.getData(), 0, in.getLength(), StandardCharsets.US_ASCII),
                        "relayed once the event loop took the socket");
                assertEquals(second.externalPort(), in.getPort(), "the reply comes from the mapped port");
            });
        }
    }

    /**
     * A change undone in its own batch (a request refused after its bind, e.g. by a journal that cannot write) leaves
     * nothing listening, whether its socket still waited for the batch's end or had been handed to its loop.
     */
    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    void aBindUndoneInItsBatchLeavesNothingListening(String transport) throws Exception {
        TcpRelayTest.requireTransport(transport);
        try (Fixture f = new Fixture("relay: copy", "", oneLoop(transport)); EchoServer echo = new EchoServer("echo", LAN_HOST)) {
            for (boolean handedToItsLoop : new boolean[] {false, true}) {
                int port;
                try (ServerSocket probe = new ServerSocket(0, 1, WAN)) {
                    port = probe.getLocalPort();
                }
                Change added = Change.added(new Mapping(Protocol.TCP, port, RemoteFilter.ANY, echo.endpoint(),
                        Owner.of(LAN_HOST, Origin.ADMIN), "", Kind.DYNAMIC, "undone", Instant.now(),
                        Instant.now().plusSeconds(3600), true), Change.Cause.REQUEST);
                f.dataplane.prepare(added);
                PortListener l = f.dataplane.listener(Protocol.TCP, port);
                Channel bound = l.serverChannel();
                assertTrue(bound.isOpen(), "bound on the writer");
                if (handedToItsLoop) {
                    f.dataplane.flush();
                }
                f.dataplane.abort(added);
                assertFalse(bound.isOpen(), "closed by the abort (handed to its loop: " + handedToItsLoop + ")");
                f.dataplane.flush(); // nothing is left waiting to be registered
                if (handedToItsLoop && transport.equals("nio")) {
                    // NIO closes a registered socket's descriptor when its selector next selects, just after the close
                    await().atMost(Duration.ofSeconds(30)).until(() -> refused(port));
                } else {
                    assertTrue(refused(port), "nothing listens on " + port + " (handed to its loop: " + handedToItsLoop + ")");
                }
                assertFalse(bound.isRegistered() && bound.isOpen(), "never left registered");
            }
        }
    }

    private static boolean refused(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(WAN, port), 10_000);
            return false;
        } catch (ConnectException e) {
            return true;
        }
    }

    private static RelayTuning oneLoop(String transport) {
        return new RelayTuning(transport, 1, RelayTuning.DEFAULTS.readBytes(), RelayTuning.DEFAULTS.flushEachRead(),
                RelayTuning.DEFAULTS.socketBuffer()); // one event loop: every listener's
    }

    interface WhileBusy {
        void run(CountDownLatch release) throws Exception;
    }

    /** Runs {@code body} while {@code loop} is held by a blocking task, which {@code release} (or the end) lets go. */
    private static void whileTheLoopIsBusy(EventLoop loop, WhileBusy body) throws Exception {
        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try {
            loop.execute(() -> {
                busy.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS); // a generous ceiling: released by the body or below
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(busy.await(30, TimeUnit.SECONDS), "the event loop took the blocking task");
            body.run(release);
        } finally {
            release.countDown();
        }
    }
}
