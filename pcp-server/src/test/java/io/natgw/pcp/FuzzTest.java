package io.natgw.pcp;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.natgw.conf.Protocol;
import io.natgw.core.Mapping;
import io.natgw.testsupport.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.natgw.pcp.ServerFixture.CLIENT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 100 000 random and mutated datagrams against the running server. Every 250 datagrams a valid MAP with a fresh
 * nonce must be answered SUCCESS (the server keeps answering); every mapping left in the table was granted in a
 * reply the client saw; nothing is logged at ERROR.
 */
class FuzzTest {

    static final int DATAGRAMS = 100_000;
    static final int BARRIER_EVERY = 250;

    private static final byte[][] SEEDS = {
            NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST, NatPmpCodecTest.MAP_TCP_REQUEST, NatPmpCodecTest.MAP_UDP_LONG_REQUEST,
            NatPmpCodecTest.DELETE_ALL_UDP, PcpCodecTest.ANNOUNCE, PcpCodecTest.MAP_REQUEST, PcpCodecTest.PEER_REQUEST,
            Bytes.concat(PcpCodecTest.MAP_REQUEST, PcpCodecTest.PREFER_FAILURE, PcpCodecTest.FILTER, PcpCodecTest.DESCRIPTION),
            Bytes.concat(PcpCodecTest.MAP_REQUEST, PcpCodecTest.THIRD_PARTY), PcpCodecTest.MAP_RESPONSE,
    };

    @Test
    // bounded in count (DATAGRAMS); this generous ceiling only catches a hang, it is not a speed requirement
    @Timeout(value = 10, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void survivesRandomAndMutatedDatagrams() throws Exception {
        LogCapture log = LogCapture.root();
        long seed = Long.getLong("natgw.fuzz.seed", System.nanoTime());
        Random random = new Random(seed);
        Set<String> granted = new HashSet<>();
        int sent = 0;
        int barriers = 0;
        try (ServerFixture fx = new ServerFixture(ServerFixture.Options.defaults().rate(0).quota(100_000))) {
            ServerFixture.Client c = fx.client(CLIENT);
            while (sent < DATAGRAMS) {
                for (int i = 0; i < BARRIER_EVERY; i++, sent++) {
                    c.send(datagram(random));
                }
                // the barrier: a valid request, answered after everything sent before it (one socket, one loop, FIFO table)
                byte[] nonce = new byte[12];
                random.nextBytes(nonce);
                PcpNonce barrierNonce = PcpNonce.of(nonce);
                byte[] barrier = PcpServerTest.map(CLIENT, barrierNonce, 17, 9, 0, PcpServerTest.NO_PREFERENCE_V4, 600);
                c.send(barrier);
                barriers++;
                int resent = 0;
                while (true) {
                    ServerFixture.Received got = c.poll(Duration.ofSeconds(1));
                    if (got == null) {
                        // UDP may drop under a burst; a lost barrier is resent (an idempotent refresh), a few times
                        assertTrue(++resent <= 30, "no answer to barrier " + barriers + " after " + sent + " datagrams (seed " + seed + ")");
                        c.send(barrier);
                        continue;
                    }
                    byte[] reply = got.bytes();
                    record(reply, granted);
                    PcpResponse r = barrierReply(reply, barrierNonce);
                    if (r != null) {
                        assertEquals(PcpResultCode.SUCCESS, r.result(), "barrier " + barriers + " (seed " + seed + ")");
                        break;
                    }
                }
            }
            for (Mapping m : fx.rows()) {
                assertTrue(granted.contains(key(m.protocol(), m.externalPort())),
                        "never granted but in the table: " + m + " (seed " + seed + ")");
            }
            PcpStats stats = fx.server.stats();
            long counted = stats.natPmpRequests() + stats.pcpRequests() + stats.ignored();
            assertTrue(counted >= sent + barriers - 0.01 * sent, "datagrams counted " + counted + " of " + (sent + barriers) + ": " + stats);
            System.out.printf("fuzz: %d datagrams + %d barriers, %d rows, stats %s, seed %d%n", sent, barriers,
                    fx.rows().size(), stats, seed);
        } finally {
            log.close();
        }
        List<ILoggingEvent> errors = new ArrayList<>();
        for (ILoggingEvent e : log.events()) {
            if (e.getLevel().isGreaterOrEqual(Level.ERROR) || e.getThrowableProxy() != null) {
                errors.add(e);
            }
        }
        assertEquals(List.of(), errors.stream().map(ILoggingEvent::getFormattedMessage).toList(), "seed " + seed);
    }

    /** Random bytes, or a seed vector mutated: octets flipped, cut, extended, or a header field set to an edge value. */
    static byte[] datagram(Random r) {
        int kind = r.nextInt(10);
        if (kind < 3) {
            byte[] b = new byte[r.nextInt(1200)];
            r.nextBytes(b);
            if (b.length > 0 && r.nextBoolean()) {
                b[0] = (byte) (r.nextBoolean() ? 0 : 2); // reach past the version dispatch
            }
            return b;
        }
        byte[] b = SEEDS[r.nextInt(SEEDS.length)].clone();
        int mutations = 1 + r.nextInt(4);
        for (int m = 0; m < mutations; m++) {
            switch (r.nextInt(5)) {
                case 0 -> {
                    if (b.length > 0) {
                        b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                    }
                }
                case 1 -> b = Bytes.cut(b, r.nextInt(b.length + 1));
                case 2 -> {
                    byte[] extra = new byte[r.nextInt(64)];
                    r.nextBytes(extra);
                    b = Bytes.concat(b, extra);
                }
                case 3 -> {
                    if (b.length > 4) {
                        int at = r.nextInt(b.length - 3);
                        int edge = new int[] {0, 0xff, 0x7f, 0x80}[r.nextInt(4)];
                        for (int i = 0; i < 4; i++) {
                            b[at + i] = (byte) edge;
                        }
                    }
                }
                default -> {
                    if (b.length > 1) {
                        b[1] = (byte) r.nextInt(256); // opcode
                    }
                }
            }
        }
        return b;
    }

    /** Notes every (protocol, external port) a reply granted: NAT-PMP map success or PCP MAP/PEER success. */
    static void record(byte[] reply, Set<String> granted) {
        try {
            if (reply.length > 0 && reply[0] == 0) {
                if (NatPmpCodec.decodeResponse(ByteBuffer.wrap(reply)) instanceof NatPmpResponse.Map m
                        && m.result() == NatPmpResultCode.SUCCESS && m.lifetime() > 0) {
                    granted.add(key(m.protocol(), m.externalPort()));
                }
                return;
            }
            PcpResponse r = PcpCodec.decodeResponse(ByteBuffer.wrap(reply));
            if (r.result() != PcpResultCode.SUCCESS || r.lifetime() == 0) {
                return;
            }
            if (r.data() instanceof PcpOpcodeData.MapData d && Protocol.ofIana(d.protocol()) != null) {
                granted.add(key(Protocol.ofIana(d.protocol()), d.externalPort()));
            } else if (r.data() instanceof PcpOpcodeData.PeerData d && Protocol.ofIana(d.protocol()) != null) {
                granted.add(key(Protocol.ofIana(d.protocol()), d.externalPort()));
            }
        } catch (PcpFormatException e) {
            throw new AssertionError("the server sent a reply that does not decode: " + e.getMessage(), e);
        }
    }

    private static PcpResponse barrierReply(byte[] reply, PcpNonce nonce) throws PcpFormatException {
        if (reply.length < 24 || reply[0] != 2) {
            return null;
        }
        PcpResponse r = PcpCodec.decodeResponse(ByteBuffer.wrap(reply));
        return r.data() instanceof PcpOpcodeData.MapData d && d.nonce().equals(nonce) && d.internalPort() == 9 ? r : null;
    }

    private static String key(Protocol p, int port) {
        return p.label() + "/" + port;
    }
}
