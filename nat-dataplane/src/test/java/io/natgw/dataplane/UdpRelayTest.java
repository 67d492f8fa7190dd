package io.natgw.dataplane;

import io.natgw.conf.Protocol;
import io.natgw.core.Mapping;
import io.natgw.core.TrafficStats.Counters;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static io.natgw.dataplane.Fixture.LAN_HOST;
import static io.natgw.dataplane.Fixture.WAN;
import static io.natgw.dataplane.Fixture.addr;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class UdpRelayTest {

    /** A UDP "internal host": answers each datagram with {@code name:payload}, from its own port. */
    static final class UdpEcho implements AutoCloseable {
        final DatagramSocket socket;
        private final ExecutorService loop = Executors.newSingleThreadExecutor();

        UdpEcho(String name) throws IOException {
            socket = new DatagramSocket(new InetSocketAddress(LAN_HOST, 0));
            loop.execute(() -> {
                byte[] buf = new byte[65536];
                while (!socket.isClosed()) {
                    try {
                        DatagramPacket p = new DatagramPacket(buf, buf.length);
                        socket.receive(p);
                        byte[] reply = (name + ":" + new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII))
                                .getBytes(StandardCharsets.US_ASCII);
                        socket.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        io.natgw.core.Endpoint endpoint() {
            return new io.natgw.core.Endpoint(LAN_HOST, socket.getLocalPort());
        }

        @Override
        public void close() {
            socket.close();
            loop.shutdownNow();
        }
    }

    /** Sends from {@code from} and returns the reply text and the address it came from. */
    static String[] ask(DatagramSocket from, int port, String text) throws IOException {
        byte[] out = text.getBytes(StandardCharsets.US_ASCII);
        from.send(new DatagramPacket(out, out.length, new InetSocketAddress(WAN, port)));
        byte[] buf = new byte[65536];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        from.receive(p);
        return new String[] {new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII),
                p.getSocketAddress().toString()};
    }

    static DatagramSocket peer(String address, int timeoutMillis) throws IOException {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(addr(address), 0));
        s.setSoTimeout(timeoutMillis);
        return s;
    }

    @Test
    void repliesComeBackFromTheMappedPortAndAreCounted() throws Exception {
        try (Fixture f = new Fixture("relay: copy"); UdpEcho echo = new UdpEcho("echo");
             DatagramSocket client = peer("127.0.0.2", 30_000)) {
            Mapping m = f.map(Protocol.UDP, echo.endpoint());

            String[] r1 = ask(client, m.externalPort(), "one");
            String[] r2 = ask(client, m.externalPort(), "two");

            assertEquals("echo:one", r1[0]);
            assertEquals("echo:two", r2[0]);
            assertEquals(new InetSocketAddress(WAN, m.externalPort()).toString(), r1[1]);
            assertEquals(new Counters(6, 16, 2, 2, 1), f.dataplane.of(m.key()));
            assertEquals(f.dataplane.of(m.key()), f.dataplane.totals());
        }
    }

    @Test
    void largeDatagramsPassWhole() throws Exception {
        try (Fixture f = new Fixture("relay: copy"); UdpEcho echo = new UdpEcho("e");
             DatagramSocket client = peer("127.0.0.2", 30_000)) {
            Mapping m = f.map(Protocol.UDP, echo.endpoint());
            String big = "x".repeat(60_000);

            String[] reply = ask(client, m.externalPort(), big);

            assertEquals(60_002, reply[0].length(), "the whole datagram, not the first 2 KiB");
            assertEquals("e:" + big, reply[0], "intact");
            assertEquals(new Counters(60_000, 60_002, 1, 1, 1), f.dataplane.of(m.key()));
            assertEquals(new RelayCounters(60_000, 60_002, 1, 1, 0, 0, 0, 1), f.dataplane.relayCounters(m.key()),
                    "one datagram each way, no TCP read");
        }
    }

    @Test
    void sessionsPerMappingAreBoundedAndIdleOnesEndByTheClock() throws Exception {
        try (Fixture f = new Fixture("relay: copy\nudpSessionsPerMapping: 2\nudpIdleTimeout: 120");
             UdpEcho echo = new UdpEcho("echo");
             DatagramSocket a = peer("127.0.0.2", 30_000);
             DatagramSocket b = peer("127.0.0.3", 30_000);
             DatagramSocket c = peer("127.0.0.4", 300)) {
            Mapping m = f.map(Protocol.UDP, echo.endpoint());
            UdpListener listener = (UdpListener) f.dataplane.listener(Protocol.UDP, m.externalPort());

            assertEquals("echo:a", ask(a, m.externalPort(), "a")[0]);
            assertEquals("echo:b", ask(b, m.externalPort(), "b")[0]);
            assertThrows(SocketTimeoutException.class, () -> ask(c, m.externalPort(), "c"), "a third peer is over the limit");
            assertEquals(2, listener.sessionCount().get());

            f.clock.advance(Duration.ofSeconds(119));
            assertEquals("echo:a2", ask(a, m.externalPort(), "a2")[0]); // a stays active
            f.clock.advance(Duration.ofSeconds(2));
            assertEquals(1, listener.sweepIdle().get(), "b has been idle for 121 s");
            await().atMost(Duration.ofSeconds(30)).until(() -> listener.sessionCount().get() == 1);

            c.setSoTimeout(30_000);
            assertEquals("echo:c", ask(c, m.externalPort(), "c")[0]);
        }
    }

    @Test
    void aPeerTheRemoteFilterRefusesIsDroppedAndADeletedMappingStopsListening() throws Exception {
        try (Fixture f = new Fixture("relay: copy"); UdpEcho echo = new UdpEcho("echo");
             DatagramSocket allowed = peer("127.0.0.2", 30_000);
             DatagramSocket other = peer("127.0.0.3", 300)) {
            Mapping m = f.map(Protocol.UDP, 0, echo.endpoint(), io.natgw.core.RemoteFilter.host(addr("127.0.0.2")));

            assertThrows(SocketTimeoutException.class, () -> ask(other, m.externalPort(), "x"));
            assertEquals("echo:y", ask(allowed, m.externalPort(), "y")[0]);

            f.delete(m);
            assertEquals(null, f.dataplane.listener(Protocol.UDP, m.externalPort()));
            try (DatagramSocket rebind = new DatagramSocket(new InetSocketAddress(WAN, m.externalPort()))) {
                assertEquals(m.externalPort(), rebind.getLocalPort(), "the port is free again");
            }
        }
    }

}
