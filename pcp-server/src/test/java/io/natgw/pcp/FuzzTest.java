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
 * 100 000 random and mutated datagrams against the running server; then 50 000 IPv6 ones over ::1, and 50 000 from
 * IPv6 LAN hosts on the handler with pinholes forwarded (issue 14). Every 250 datagrams a valid MAP with a fresh
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

    /** IPv6 requests (PcpCodecV6Test's vectors) with every option, plus NAT-PMP (dropped over IPv6) and a response. */
    private static final byte[][] SEEDS_V6 = {
            PcpCodecV6Test.MAP6_REQUEST, PcpCodecV6Test.PEER6_REQUEST, PcpCodecV6Test.ANNOUNCE6,
            Bytes.concat(PcpCodecV6Test.MAP6_REQUEST, PcpCodecTest.PREFER_FAILURE, PcpCodecV6Test.FILTER6, PcpCodecTest.DESCRIPTION),
            Bytes.concat(PcpCodecV6Test.MAP6_REQUEST, PcpCodecV6Test.THIRD_PARTY6),
            Bytes.concat(PcpCodecV6Test.PEER6_REQUEST, PcpCodecV6Test.THIRD_PARTY6, PcpCodecTest.DESCRIPTION),
            Bytes.concat(PcpCodecV6Test.MAP6_REQUEST, PcpCodecTest.FILTER), PcpCodecV6Test.PINHOLE_RESPONSE,
            NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST, NatPmpCodecTest.MAP_TCP_REQUEST,
    };

    /**
     * IPv6 over the socket: the server on ::1 (and 127.0.0.1), the datagrams from ::1 with their client address
     * field set to ::1 (so they pass the address check). ::1 can have no pinhole, so the barrier is a MAP with a fresh
     * nonce answered NOT_AUTHORIZED (and its nonce echoed), and every row the table ends with was granted in a reply
     * (none, unless a mutation made an IPv4 request that was granted).
     */
    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void survivesRandomAndMutatedIpv6DatagramsOnTheSocket() throws Exception {
        LogCapture log = LogCapture.root();
        long seed = Long.getLong("natgw.fuzz.seed", System.nanoTime());
        Random random = new Random(seed);
        Set<String> granted = new HashSet<>();
        int sent = 0;
        int barriers = 0;
        try (ServerFixture fx = new ServerFixture(PcpIpv6Test.dualStack().rate(0).quota(100_000))) {
            ServerFixture.Client c = fx.client(PcpIpv6Test.LOOPBACK6).to(fx.server.localAddresses().get(1));
            while (sent < DATAGRAMS_V6) {
                for (int i = 0; i < BARRIER_EVERY; i++, sent++) {
                    c.send(datagram(random, SEEDS_V6, PcpIpv6Test.LOOPBACK6));
                }
                barriers++;
                byte[] nonce = new byte[12];
                random.nextBytes(nonce);
                PcpNonce barrierNonce = PcpNonce.of(nonce);
                byte[] barrier = PcpServerTest.map(PcpIpv6Test.LOOPBACK6, barrierNonce, 17, 9, 0, PcpServerTest.NO_PREFERENCE_V6, 600);
                c.send(barrier);
                int resent = 0;
                while (true) {
                    ServerFixture.Received got = c.poll(Duration.ofSeconds(1));
                    if (got == null) {
                        assertTrue(++resent <= 30, "no answer to barrier " + barriers + " after " + sent + " datagrams (seed " + seed + ")");
                        c.send(barrier);
                        continue;
                    }
                    assertTrue(got.bytes().length == 0 || got.bytes()[0] != 0,
                            "a NAT-PMP answer over IPv6 (seed " + seed + ")");
                    record(got.bytes(), granted);
                    PcpResponse r = barrierReply(got.bytes(), barrierNonce);
                    if (r != null) {
                        assertEquals(PcpResultCode.NOT_AUTHORIZED, r.result(), "barrier " + barriers + " (seed " + seed + ")");
                        break;
                    }
                }
            }
            for (Mapping m : fx.rows()) {
                assertTrue(!m.pinhole() && granted.contains(key(m.protocol(), m.externalPort())),
                        "never granted but in the table: " + m + " (seed " + seed + ")");
            }
            PcpStats stats = fx.server.stats();
            assertEquals(0, stats.natPmpRequests(), "NAT-PMP is never handled over IPv6: " + stats);
            long counted = stats.pcpRequests() + stats.ignored();
            assertTrue(counted >= sent + barriers - 0.01 * sent, "datagrams counted " + counted + " of " + (sent + barriers) + ": " + stats);
            System.out.printf("fuzz v6 socket: %d datagrams + %d barriers, %d rows, stats %s, seed %d%n", sent, barriers,
                    fx.rows().size(), stats, seed);
        } finally {
            log.close();
        }
        assertNoErrors(log, seed);
    }

    /**
     * IPv6 LAN hosts on the handler (sources in fd00:77::/64, as a socket on fd00:77::1 would give them) with a
     * dataplane that forwards pinholes: every pinhole left in the table was granted in a reply, on a host's own
     * address and port, and what is forwarded is exactly the table's rows. The barrier is a MAP with a fresh nonce,
     * answered SUCCESS with the host's own address and port.
     */
    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void ipv6RequestsFromLanHostsLeaveOnlyGrantedPinholes() throws Exception {
        LogCapture log = LogCapture.root();
        long seed = Long.getLong("natgw.fuzz.seed", System.nanoTime());
        Random random = new Random(seed);
        Set<String> granted = new HashSet<>();
        int sent = 0;
        try (PcpIpv6Test.Lan lan = new PcpIpv6Test.Lan(List.of(), true)) {
            while (sent < DATAGRAMS_V6) {
                List<java.util.concurrent.CompletableFuture<byte[]>> replies = new ArrayList<>();
                for (int i = 0; i < BARRIER_EVERY; i++, sent++) {
                    java.net.InetAddress source = random.nextInt(4) == 0 ? lanHost(random) : PcpIpv6Test.HOST6;
                    byte[] d = datagram(random, SEEDS_V6, random.nextInt(8) == 0 ? lanHost(random) : source);
                    replies.add(lan.handler.handle(source, ByteBuffer.wrap(d)));
                }
                byte[] nonce = new byte[12];
                random.nextBytes(nonce);
                PcpNonce barrierNonce = PcpNonce.of(nonce);
                replies.add(lan.handler.handle(PcpIpv6Test.HOST6, ByteBuffer.wrap(PcpServerTest.map(PcpIpv6Test.HOST6,
                        barrierNonce, 17, 9, 0, PcpServerTest.NO_PREFERENCE_V6, 600))));
                for (var f : replies) {
                    byte[] reply = f.get(60, TimeUnit.SECONDS);
                    if (reply != null) {
                        assertTrue(reply[0] != 0, "a NAT-PMP answer over IPv6 (seed " + seed + ")");
                        recordV6(reply, granted);
                    }
                }
                PcpResponse b = PcpCodec.decodeResponse(ByteBuffer.wrap(replies.get(replies.size() - 1).get()));
                assertEquals(List.of(PcpResultCode.SUCCESS, (Object) new PcpOpcodeData.MapData(barrierNonce, 17, 9, 9, PcpIpv6Test.HOST6)),
                        List.of(b.result(), b.data()), "barrier after " + sent + " (seed " + seed + ")");
            }
            for (Mapping m : lan.table.view().mappings()) {
                assertTrue(m.pinhole(), "only pinholes can come from IPv6 hosts: " + m + " (seed " + seed + ")");
                assertTrue(granted.contains(key6(m.protocol(), m.internal().address(), m.externalPort())),
                        "never granted but in the table: " + m + " (seed " + seed + ")");
                assertTrue(io.natgw.conf.Cidr.parse("fd00:77::/64").contains(m.internal().address()), m.toString());
            }
            assertEquals(io.natgw.core.RecordingForwarder.expected(lan.table.view()), lan.forwarder.routes(),
                    "what is forwarded is the table (seed " + seed + ")");
            System.out.printf("fuzz v6 handler: %d datagrams, %d pinholes, seed %d%n", sent, lan.table.view().size(), seed);
        } finally {
            log.close();
        }
        assertNoErrors(log, seed);
    }

    static final int DATAGRAMS_V6 = 50_000;

    /** One of 16 hosts of the LAN prefix. */
    private static java.net.InetAddress lanHost(Random r) {
        return ServerFixture.ip("fd00:77::" + Integer.toHexString(0x10 + r.nextInt(16)));
    }

    private static void assertNoErrors(LogCapture log, long seed) {
        List<ILoggingEvent> errors = new ArrayList<>();
        for (ILoggingEvent e : log.events()) {
            if (e.getLevel().isGreaterOrEqual(Level.ERROR) || e.getThrowableProxy() != null) {
                errors.add(e);
            }
        }
        assertEquals(List.of(), errors.stream().map(ILoggingEvent::getFormattedMessage).toList(), "seed " + seed);
    }

    /** A mutated IPv6 seed whose PCP client address field is first set to {@code client} (most then pass §8.3's check). */
    static byte[] datagram(Random r, byte[][] seeds, java.net.InetAddress client) {
        byte[] seedBytes = seeds[r.nextInt(seeds.length)].clone();
        if (seedBytes.length >= 24 && seedBytes[0] == 2 && (seedBytes[1] & 0x80) == 0) {
            System.arraycopy(PcpCodec.toWire(client), 0, seedBytes, 8, 16);
        }
        int kind = r.nextInt(10);
        if (kind < 2) {
            return seedBytes; // unmutated: reaches the table
        }
        if (kind < 4) {
            byte[] b = new byte[r.nextInt(1200)];
            r.nextBytes(b);
            if (b.length > 0) {
                b[0] = (byte) (r.nextBoolean() ? 0 : 2); // reach past the version dispatch
            }
            return b;
        }
        return mutate(r, seedBytes);
    }

    /** Notes every (protocol, assigned address, port) a PCP MAP/PEER success granted. */
    static void recordV6(byte[] reply, Set<String> granted) throws PcpFormatException {
        PcpResponse r = PcpCodec.decodeResponse(ByteBuffer.wrap(reply));
        if (r.result() != PcpResultCode.SUCCESS || r.lifetime() == 0) {
            return;
        }
        if (r.data() instanceof PcpOpcodeData.MapData d && Protocol.ofIana(d.protocol()) != null) {
            granted.add(key6(Protocol.ofIana(d.protocol()), d.externalAddress(), d.externalPort()));
        } else if (r.data() instanceof PcpOpcodeData.PeerData d && Protocol.ofIana(d.protocol()) != null) {
            granted.add(key6(Protocol.ofIana(d.protocol()), d.externalAddress(), d.externalPort()));
        }
    }

    private static String key6(Protocol p, java.net.InetAddress address, int port) {
        return p.label() + "/[" + address.getHostAddress() + "]:" + port;
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
        return mutate(r, SEEDS[r.nextInt(SEEDS.length)].clone());
    }

    private static byte[] mutate(Random r, byte[] seedBytes) {
        byte[] b = seedBytes;
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
