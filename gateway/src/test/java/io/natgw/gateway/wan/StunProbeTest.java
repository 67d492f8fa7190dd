package io.natgw.gateway.wan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The STUN probe's schedule, driven by a manual scheduler (virtual time: nothing waits for a delay), with real
 * Binding transactions over loopback UDP to a responder the test owns. Each round sends one request and listens
 * 300 ms, the only real wait.
 */
class StunProbeTest {

    private static final InetAddress WAN = address("127.0.0.1");
    private static final InetAddress NEW_WAN = address("127.0.0.2");
    private static final Duration REFRESH = Duration.ofMinutes(15);

    /** Runs tasks when told, in order; remembers each task's delay. */
    static final class ManualScheduler implements StunProbe.Scheduler {
        record Task(Runnable run, Duration delay, AtomicBoolean cancelled) {
        }

        final Deque<Task> tasks = new ArrayDeque<>();
        final List<Duration> ran = new ArrayList<>();

        @Override
        public Runnable schedule(Runnable task, Duration delay) {
            Task t = new Task(task, delay, new AtomicBoolean());
            tasks.add(t);
            return () -> t.cancelled().set(true);
        }

        List<Task> live() {
            return tasks.stream().filter(t -> !t.cancelled().get()).toList();
        }

        /** Runs the next task that was not cancelled (its delay is taken as elapsed). */
        void runNext() {
            Task t;
            do {
                t = tasks.poll();
            } while (t != null && t.cancelled().get());
            if (t == null) {
                throw new AssertionError("nothing scheduled");
            }
            ran.add(t.delay());
            t.run().run();
        }
    }

    /** A STUN server on loopback: answers with what {@link #tells} says, or stays silent while it is null. */
    static final class Responder implements AutoCloseable {
        enum Mode { SILENT, REFLECT, WRONG_TRANSACTION, FROM_ANOTHER_PORT }

        final DatagramSocket socket;
        final DatagramSocket other;
        volatile Mode mode = Mode.SILENT;
        volatile InetAddress tells; // null: the source address seen (REFLECT)
        private final Thread thread;

        Responder() throws IOException {
            socket = new DatagramSocket(new InetSocketAddress(WAN, 0));
            other = new DatagramSocket(new InetSocketAddress(WAN, 0));
            thread = new Thread(this::serve, "stun-responder");
            thread.setDaemon(true);
            thread.start();
        }

        InetSocketAddress address() {
            return (InetSocketAddress) socket.getLocalSocketAddress();
        }

        private void serve() {
            byte[] buf = new byte[1500];
            while (!socket.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    socket.receive(p);
                    Mode m = mode;
                    if (m == Mode.SILENT) {
                        continue;
                    }
                    byte[] id = Arrays.copyOfRange(buf, 8, 20);
                    if (m == Mode.WRONG_TRANSACTION) {
                        id[0] ^= 1;
                    }
                    InetAddress a = tells != null ? tells : p.getAddress();
                    byte[] reply = success(id, a, p.getPort());
                    (m == Mode.FROM_ANOTHER_PORT ? other : socket).send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
                } catch (IOException e) {
                    return; // closed
                }
            }
        }

        /** RFC 5389: Binding success, length 12, cookie, id; XOR-MAPPED-ADDRESS (0x0020, 8 octets, IPv4). */
        static byte[] success(byte[] id, InetAddress a, int port) {
            int cookie = StunCodec.MAGIC_COOKIE;
            return ByteBuffer.allocate(32).putShort((short) 0x0101).putShort((short) 12).putInt(cookie).put(id)
                    .putShort((short) 0x0020).putShort((short) 8).put((byte) 0).put((byte) 1)
                    .putShort((short) (port ^ (cookie >>> 16))).putInt(ByteBuffer.wrap(a.getAddress()).getInt() ^ cookie).array();
        }

        @Override
        public void close() {
            socket.close();
            other.close();
        }
    }

    private final ManualScheduler scheduler = new ManualScheduler();
    private Responder server;
    private StunProbe probe;

    private StunProbe probe() throws IOException {
        server = new Responder();
        InetSocketAddress at = server.address();
        SecureRandom ids = new SecureRandom();
        probe = new StunProbe(at, REFRESH, new StunBackoff(Duration.ofSeconds(1), Duration.ofMinutes(5), () -> 0.0),
                bind -> StunProbe.ask(bind, at, ids, 1, Duration.ofMillis(300)), scheduler, () -> { });
        return probe;
    }

    @AfterEach
    void close() {
        if (probe != null) {
            probe.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aSilentServerIsAskedAgainWithGrowingWaitsUntilItAnswersThenEveryRefreshAndTheBackoffStartsOver() throws Exception {
        StunProbe p = probe();
        p.askFrom(WAN);
        for (int i = 0; i < 4; i++) {
            scheduler.runNext();
            assertNull(p.result().address(), "no address before an answer");
        }
        assertTrue(p.result().problem().contains("no answer after 1 request of 0.3 s; asking again in 8 s"), p.result().problem());

        server.mode = Responder.Mode.REFLECT;
        scheduler.runNext(); // after 8 s
        assertEquals(new StunProbe.Result("127.0.0.1", null), p.result());

        server.mode = Responder.Mode.SILENT;
        scheduler.runNext(); // the refresh after 15 minutes: no answer, the last address stays shown with the problem
        assertEquals("127.0.0.1", p.result().address());
        assertTrue(p.result().problem().contains("asking again in 1 s"), p.result().problem());

        server.mode = Responder.Mode.REFLECT;
        server.tells = address("198.51.100.7"); // the public address in front changed
        scheduler.runNext();
        assertEquals(new StunProbe.Result("198.51.100.7", null), p.result());

        assertEquals(List.of(Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4),
                Duration.ofSeconds(8), REFRESH, Duration.ofSeconds(1)), scheduler.ran);
        assertEquals(List.of(REFRESH), scheduler.live().stream().map(ManualScheduler.Task::delay).toList());
    }

    @Test
    void aWanAddressChangeAsksAtOnceFromTheNewAddressAndABurstOfChangesLeavesOneRoundQueued() throws Exception {
        StunProbe p = probe();
        p.askFrom(WAN);
        scheduler.runNext();
        scheduler.runNext(); // two rounds without an answer: the next waits 2 s
        assertEquals(List.of(Duration.ofSeconds(2)), scheduler.live().stream().map(ManualScheduler.Task::delay).toList());

        for (int i = 0; i < 100; i++) {
            p.askFrom(NEW_WAN);
        }
        assertEquals(List.of(Duration.ZERO), scheduler.live().stream().map(ManualScheduler.Task::delay).toList());
        assertEquals(new StunProbe.Result(null, "asking again from 127.0.0.2"), p.result());

        server.mode = Responder.Mode.REFLECT;
        scheduler.runNext();
        assertEquals(new StunProbe.Result("127.0.0.2", null), p.result()); // asked from the new address
    }

    @Test
    void answersToAnotherTransactionOrFromAnotherSocketThanTheServerAreNotTaken() throws Exception {
        StunProbe p = probe();
        server.tells = address("198.51.100.66");
        p.askFrom(WAN);
        server.mode = Responder.Mode.WRONG_TRANSACTION;
        scheduler.runNext();
        assertNull(p.result().address(), p.result().toString());
        server.mode = Responder.Mode.FROM_ANOTHER_PORT;
        scheduler.runNext();
        assertNull(p.result().address(), p.result().toString());
        assertTrue(p.result().problem().contains("no answer"), p.result().problem());

        server.mode = Responder.Mode.REFLECT; // the same responder, answering properly: taken
        scheduler.runNext();
        assertEquals("198.51.100.66", p.result().address());
    }

    @Test
    void closedItSchedulesNothingMore() throws Exception {
        StunProbe p = probe();
        p.askFrom(WAN);
        p.close();
        assertEquals(List.of(), scheduler.live());
        p.askFrom(NEW_WAN);
        assertEquals(List.of(), scheduler.live());
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
