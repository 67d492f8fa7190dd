package io.natgw.dataplane;

import io.natgw.conf.Protocol;
import io.natgw.core.Mapping;
import io.netty.channel.EventLoop;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.natgw.dataplane.Fixture.LAN_HOST;
import static io.natgw.dataplane.Fixture.WAN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13: with epoll and NIO a TCP mapping's listener is created, bound and listening on the table's writer thread,
 * and handed to its event loop without waiting: granting a mapping costs no round trip through an event loop.
 */
class ListenerBindTest {

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    void aMappingIsGrantedAndListensWhileItsEventLoopIsBusy(String transport) throws Exception {
        TcpRelayTest.requireTransport(transport);
        RelayTuning one = new RelayTuning(transport, 1, RelayTuning.DEFAULTS.readBytes(), RelayTuning.DEFAULTS.flushEachRead(),
                RelayTuning.DEFAULTS.socketBuffer()); // one event loop: every listener's
        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (Fixture f = new Fixture("relay: copy", "", one); EchoServer echo = new EchoServer("echo", LAN_HOST)) {
            Mapping first = f.map(Protocol.TCP, echo.endpoint());
            EventLoop loop = f.dataplane.listener(Protocol.TCP, first.externalPort()).serverChannel().eventLoop();
            assertEquals(transport, f.dataplane.listener(Protocol.TCP, first.externalPort()).ctx.transport().name());
            try {
                loop.execute(() -> {
                    busy.countDown();
                    try {
                        release.await(60, TimeUnit.SECONDS); // a generous ceiling: released below
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                assertTrue(busy.await(30, TimeUnit.SECONDS), "the event loop took the blocking task");

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
            } finally {
                release.countDown();
            }
        }
    }
}
