package io.natgw.pcp;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import io.natgw.core.InMemoryLeaseStore;
import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.Mapping;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Owner;
import io.natgw.core.RecordingForwarder;
import io.natgw.core.RemoteFilter;
import io.natgw.core.TestClock;
import io.natgw.testsupport.LogCapture;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.natgw.pcp.PcpServerTest.N1;
import static io.natgw.pcp.PcpServerTest.NO_PREFERENCE_V6;
import static io.natgw.pcp.PcpServerTest.ask;
import static io.natgw.pcp.PcpServerTest.decode;
import static io.natgw.pcp.PcpServerTest.map;
import static io.natgw.pcp.ServerFixture.CLIENT;
import static io.natgw.pcp.ServerFixture.ip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * PCP over IPv6 (issue 14 point 2): the server listens on IPv6 LAN addresses too; NAT-PMP over IPv6 is dropped;
 * bad IPv6 input gets its answer with no side effect. Socket tests run over ::1 (the only IPv6 address a test may
 * use outside a namespace); the rules for LAN hosts (fd00:77::/64) are checked on the handler itself, with the
 * source address a socket would have given it.
 */
class PcpIpv6Test {

    static final InetAddress LOOPBACK6 = ip("::1");
    static final InetAddress HOST6 = ip("fd00:77::10");
    static final InetAddress OTHER6 = ip("fd00:77::11");

    static ServerFixture.Options dualStack() {
        return ServerFixture.Options.defaults().lan(List.of(CLIENT, LOOPBACK6),
                List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128")));
    }

    // ---- sockets ----

    @Test
    void listensOnTheIpv6LanAddressAndAnswersFromIt() throws Exception {
        try (ServerFixture fx = new ServerFixture(dualStack())) {
            List<InetSocketAddress> bound = fx.server.localAddresses();
            assertEquals(List.of(CLIENT, LOOPBACK6), bound.stream().map(InetSocketAddress::getAddress).toList());
            InetSocketAddress v6 = bound.get(1);
            ServerFixture.Client c = fx.client(LOOPBACK6).to(v6);
            fx.clock.advance(Duration.ofSeconds(5));
            c.send(PcpCodec.encodeRequest(new PcpRequest(PcpOpcode.ANNOUNCE, 0, LOOPBACK6, new PcpOpcodeData.Announce(), List.of())));
            ServerFixture.Received got = c.receive();
            assertEquals(v6, got.from(), "the reply leaves from the address the client sent to");
            assertEquals(new PcpResponse(0, PcpResultCode.SUCCESS, 0, 5, new PcpOpcodeData.Announce(), List.of()),
                    decode(got.bytes()));
            // ::1 itself is no host a pinhole could reach (loopback): refused before the table, long-lived
            PcpResponse map = ask(c, map(LOOPBACK6, N1, 6, 8080, 0, NO_PREFERENCE_V6, 600));
            assertEquals(List.of(PcpResultCode.NOT_AUTHORIZED, 1800L), List.of(map.result(), map.lifetime()));
            assertEquals(List.of(), fx.rows());
        }
    }

    @Test
    void natPmpOverIpv6IsDroppedUnansweredWithADebugLine() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(PcpServer.class);
        Level before = logger.getLevel();
        logger.setLevel(Level.DEBUG);
        try (ServerFixture fx = new ServerFixture(dualStack()); LogCapture log = new LogCapture(PcpServer.class)) {
            ServerFixture.Client c = fx.client(LOOPBACK6).to(fx.server.localAddresses().get(1));
            c.send(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST);
            c.send(NatPmpCodecTest.MAP_TCP_REQUEST);
            // one socket, one event loop: the first reply is the ANNOUNCE's, so nothing answered the two before it
            PcpResponse first = ask(c, PcpCodec.encodeRequest(new PcpRequest(PcpOpcode.ANNOUNCE, 0, LOOPBACK6,
                    new PcpOpcodeData.Announce(), List.of())));
            assertEquals(List.of(0, PcpResultCode.SUCCESS), List.of(first.opcode(), first.result()));
            PcpStats s = fx.server.stats();
            assertEquals(List.of(0L, 2L, 1L), List.of(s.natPmpRequests(), s.ignored(), s.pcpRequests()));
            assertEquals(List.of(), fx.rows());
            assertEquals(2, log.lines(Level.DEBUG).stream()
                    .filter(l -> l.equals("nat-pmp from 0:0:0:0:0:0:0:1 ignored: NAT-PMP is IPv4-only (RFC 6886); IPv6 hosts use PCP"))
                    .count(), log.lines(Level.DEBUG).toString());

            // the same request over IPv4 is answered
            ServerFixture.Client v4 = fx.client(CLIENT);
            assertEquals(12, v4.exchange(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST).length);
        } finally {
            logger.setLevel(before);
        }
    }

    @Test
    void anIpv4MappedClientAddressFromAnIpv6SourceIsAddressMismatch() throws Exception {
        try (ServerFixture fx = new ServerFixture(dualStack())) {
            ServerFixture.Client c = fx.client(LOOPBACK6).to(fx.server.localAddresses().get(1));
            // ::ffff:127.0.0.1 in the client address field, ::1 the source: RFC 6887 §8.3
            byte[] request = map(CLIENT, N1, 6, 8080, 8080, NO_PREFERENCE_V6, 600);
            PcpResponse r = ask(c, request);
            assertEquals(List.of(PcpResultCode.ADDRESS_MISMATCH, 1800L), List.of(r.result(), r.lifetime()));
            assertEquals(new PcpOpcodeData.MapData(N1, 6, 8080, 8080, NO_PREFERENCE_V6), r.data(), "echoed exactly");
            // and the reverse: an IPv6 client address from an IPv4 source
            PcpResponse reverse = ask(fx.client(CLIENT), map(LOOPBACK6, N1, 6, 8080, 8080, NO_PREFERENCE_V6, 600));
            assertEquals(PcpResultCode.ADDRESS_MISMATCH, reverse.result());
            assertEquals(List.of(), fx.rows());
        }
    }

    @Test
    void announcementsFromAnIpv6SocketArePcpOnly() throws Exception {
        try (DatagramSocket v4 = new DatagramSocket(new InetSocketAddress(CLIENT, 0));
             DatagramSocket v6 = new DatagramSocket(new InetSocketAddress(LOOPBACK6, 0))) {
            v4.setSoTimeout(30_000); // a ceiling that only catches a hang
            v6.setSoTimeout(30_000);
            NatgwConfig config = ServerFixture.config(dualStack().announceTo((InetSocketAddress) v4.getLocalSocketAddress()));
            TestClock clock = new TestClock(Instant.parse("2026-05-01T10:00:00Z"));
            HandDrivenScheduler schedule = new HandDrivenScheduler();
            try (MappingTable table = new MappingTable(config, new InMemoryLeaseStore(), io.natgw.core.Forwarder.NONE, clock)) {
                table.start();
                PcpServer server = new PcpServer(config, table, (InetSocketAddress) v4.getLocalSocketAddress(),
                        (InetSocketAddress) v6.getLocalSocketAddress(), schedule);
                try {
                    server.start();
                    // IPv4: the NAT-PMP address answer and the PCP ANNOUNCE; IPv6: the ANNOUNCE only (RFC 6886 is IPv4-only)
                    assertEquals(List.of(12, 24), List.of(receive(v4).bytes().length, receive(v4).bytes().length));
                    ServerFixture.Received announce = receive(v6);
                    assertEquals(server.localAddresses().get(1), announce.from(), "sent from the IPv6 LAN socket");
                    assertEquals(new PcpResponse(0, PcpResultCode.SUCCESS, 0, 0, new PcpOpcodeData.Announce(), List.of()),
                            decode(announce.bytes()));
                    schedule.next().fire(); // the second of the round: again one datagram over IPv6
                    assertEquals(24, receive(v6).bytes().length);
                    assertEquals(List.of(12, 24), List.of(receive(v4).bytes().length, receive(v4).bytes().length));
                } finally {
                    server.close();
                }
            }
        }
    }

    @Test
    void theAllNodesTargetIsScopedToTheLanAddressLink() throws Exception {
        InetSocketAddress scoped = PcpServer.onLink(PcpServer.ANNOUNCE_TARGET6, (Inet6Address) LOOPBACK6);
        Inet6Address a = (Inet6Address) scoped.getAddress();
        assertEquals(List.of("ff02:0:0:0:0:0:0:1", 5350), List.of(a.getHostAddress().replaceAll("%.*", ""), scoped.getPort()));
        assertEquals(java.net.NetworkInterface.getByInetAddress(LOOPBACK6), a.getScopedInterface(), "the link of ::1");
        InetSocketAddress test = new InetSocketAddress(LOOPBACK6, 4242);
        assertEquals(test, PcpServer.onLink(test, (Inet6Address) LOOPBACK6), "a unicast target is used as given");
    }

    // ---- rules for LAN hosts, on the handler ----

    /**
     * The handler of a router whose LAN is fd00:77::1/64 and 192.168.77.1/24, with a real table behind it and a
     * dataplane that forwards pinholes (core's recording forwarder, saying yes as the kernel forwarder does) or not.
     */
    static final class Lan implements AutoCloseable {
        final TestClock clock = new TestClock(Instant.parse("2026-05-01T10:00:00Z"));
        final RecordingForwarder forwarder = new RecordingForwarder();
        final MappingTable table;
        final PcpHandler handler;

        Lan(List<Cidr> thirdParty) throws java.io.IOException {
            this(thirdParty, true);
        }

        Lan(List<Cidr> thirdParty, boolean pinholes) throws java.io.IOException {
            NatgwConfig config = ServerFixture.config(ServerFixture.Options.defaults()
                    .lan(List.of(ip("192.168.77.1"), ip("fd00:77::1")), List.of(Cidr.parse("192.168.77.0/24"), Cidr.parse("fd00:77::/64")))
                    .thirdParty(thirdParty));
            forwarder.pinholes = pinholes;
            table = new MappingTable(config, new InMemoryLeaseStore(), forwarder, clock);
            table.addListener(forwarder);
            table.start();
            handler = new PcpHandler(table, new StatsCounter(), config.network());
        }

        PcpResponse ask(InetAddress source, byte[] request) throws Exception {
            byte[] reply = handler.handle(source, ByteBuffer.wrap(request)).get(10, java.util.concurrent.TimeUnit.SECONDS);
            return decode(reply);
        }

        @Override
        public void close() throws java.io.IOException {
            table.close();
        }
    }

    @Test
    void aLinkLocalSourceCannotHaveAPinhole() throws Exception {
        try (Lan lan = new Lan(List.of())) {
            InetAddress linkLocal = ip("fe80::10");
            PcpResponse r = lan.ask(linkLocal, map(linkLocal, N1, 6, 8080, 8080, NO_PREFERENCE_V6, 600));
            assertEquals(List.of(PcpResultCode.NOT_AUTHORIZED, 1800L), List.of(r.result(), r.lifetime()));
            assertEquals(new PcpOpcodeData.MapData(N1, 6, 8080, 8080, NO_PREFERENCE_V6), r.data());
            assertEquals(List.of(), lan.table.view().mappings());
        }
    }

    @Test
    void thirdPartyNamingNoPinholeHostIsMalformedOption() throws Exception {
        try (Lan lan = new Lan(List.of(Cidr.parse("fd00:77::/64")))) { // the client may map for third parties
            for (String bad : List.of("fe80::11", "ff02::1", "ff05::2", "::", "::1", "::192.168.77.11")) {
                PcpResponse r = lan.ask(HOST6, map(HOST6, N1, 6, 8080, 8080, NO_PREFERENCE_V6, 600,
                        new PcpOption.ThirdParty(ip(bad))));
                assertEquals(PcpResultCode.MALFORMED_OPTION, r.result(), bad);
                PcpOpcodeData.PeerData peer = new PcpOpcodeData.PeerData(N1, 17, 9000, 9000, NO_PREFERENCE_V6, 443,
                        ip("2001:db8:113::2"));
                PcpResponse p = lan.ask(HOST6, PcpCodec.encodeRequest(new PcpRequest(PcpOpcode.PEER, 600, HOST6, peer,
                        List.of(new PcpOption.ThirdParty(ip(bad))))));
                assertEquals(PcpResultCode.MALFORMED_OPTION, p.result(), "PEER for " + bad);
            }
            assertEquals(List.of(), lan.table.view().mappings());
        }
    }

    @Test
    void thirdPartyNamingTheSenderItselfIsMalformedRequest() throws Exception {
        try (Lan lan = new Lan(List.of(Cidr.parse("fd00:77::/64"), Cidr.parse("192.168.77.0/24")))) {
            // RFC 6887 §13.1: "MUST return MALFORMED_REQUEST", both families
            PcpResponse r = lan.ask(HOST6, map(HOST6, N1, 6, 8080, 8080, NO_PREFERENCE_V6, 600, new PcpOption.ThirdParty(HOST6)));
            assertEquals(PcpResultCode.MALFORMED_REQUEST, r.result());
            InetAddress v4 = ip("192.168.77.10");
            PcpResponse r4 = lan.ask(v4, map(v4, N1, 6, 8080, 8080, ip("0.0.0.0"), 600, new PcpOption.ThirdParty(v4)));
            assertEquals(PcpResultCode.MALFORMED_REQUEST, r4.result());
            assertEquals(List.of(), lan.table.view().mappings());
        }
    }

    @Test
    void anIpv4MappedThirdPartyFromAnIpv6HostIsAnIpv4HostUnderSecureMode() throws Exception {
        try (Lan lan = new Lan(List.of())) {
            // ::ffff:192.168.77.11 is the IPv4 host 192.168.77.11 (RFC 6887 §5), never a pinhole; an IPv6 client not
            // authorized for third parties may not map for it
            byte[] request = Bytes.concat(PcpCodecV6Test.MAP6_REQUEST,
                    Bytes.of(1, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 77, 11));
            PcpResponse r = lan.ask(HOST6, request);
            assertEquals(PcpResultCode.NOT_AUTHORIZED, r.result());
            assertArrayEquals(Arrays.copyOfRange(request, 24, request.length), Arrays.copyOfRange(
                    PcpCodec.encodeResponse(r), 24, request.length), "opcode data and option echoed");
            assertEquals(List.of(), lan.table.view().mappings());
        }
    }

    @Test
    void familyMismatchesBetweenSourceAndClientFieldAreAddressMismatch() throws Exception {
        try (Lan lan = new Lan(List.of())) {
            PcpResponse mapped = lan.ask(HOST6, map(ip("192.168.77.10"), N1, 6, 8080, 8080, NO_PREFERENCE_V6, 600));
            assertEquals(PcpResultCode.ADDRESS_MISMATCH, mapped.result());
            PcpResponse v6field = lan.ask(ip("192.168.77.10"), map(HOST6, N1, 6, 8080, 8080, NO_PREFERENCE_V6, 600));
            assertEquals(PcpResultCode.ADDRESS_MISMATCH, v6field.result());
            PcpResponse other = lan.ask(HOST6, map(OTHER6, N1, 6, 8080, 8080, NO_PREFERENCE_V6, 600));
            assertEquals(PcpResultCode.ADDRESS_MISMATCH, other.result());
            assertEquals(List.of(), lan.table.view().mappings());
        }
    }

    // ---- pinholes ----

    static final PcpNonce N2 = PcpServerTest.N2;

    @Test
    void aMapFromAnIpv6HostOpensAPinholeOnItsOwnAddressAndPort() throws Exception {
        try (Lan lan = new Lan(List.of())) {
            PcpResponse r = lan.ask(HOST6, map(HOST6, N1, 6, 8080, 0, NO_PREFERENCE_V6, 7200, new PcpOption.Description("web")));
            // RFC 6887 as a firewall: the assigned external address and port are the internal ones
            assertEquals(new PcpResponse(1, PcpResultCode.SUCCESS, 7200, 0,
                    new PcpOpcodeData.MapData(N1, 6, 8080, 8080, HOST6), List.of(new PcpOption.Description("web"))), r);
            Mapping m = lan.table.view().mappings().get(0);
            assertEquals(List.of(true, Protocol.TCP, 8080, new Endpoint(HOST6, 8080), Owner.of(HOST6, Origin.PCP), N1.hex(), "web",
                    RemoteFilter.ANY), List.of(m.pinhole(), m.protocol(), m.externalPort(), m.internal(), m.owner(), m.nonce(),
                    m.description(), m.remote()));
            assertEquals(Map.of(m.key(), m), lan.forwarder.routes(), "the dataplane forwards it");
            assertEquals(m, lan.table.view().pinhole(m.pinholeId()).orElseThrow());

            // a refresh, with another nonce (pcp.strictNonce off): same pinhole, same id, new lifetime
            lan.clock.advance(Duration.ofSeconds(100));
            PcpResponse refreshed = lan.ask(HOST6, map(HOST6, N2, 6, 8080, 8080, NO_PREFERENCE_V6, 3600));
            assertEquals(List.of(PcpResultCode.SUCCESS, 3600L, (Object) new PcpOpcodeData.MapData(N2, 6, 8080, 8080, HOST6)),
                    List.of(refreshed.result(), refreshed.lifetime(), refreshed.data()));
            assertEquals(List.of(m.pinholeId()), lan.table.view().mappings().stream().map(Mapping::pinholeId).toList());

            // delete: lifetime 0 with the pinhole's nonce; another nonce is refused and changes nothing
            assertEquals(PcpResultCode.NOT_AUTHORIZED, lan.ask(HOST6, map(HOST6, N1, 6, 8080, 0, NO_PREFERENCE_V6, 0)).result());
            assertEquals(1, lan.table.view().size());
            PcpResponse deleted = lan.ask(HOST6, map(HOST6, N2, 6, 8080, 0, NO_PREFERENCE_V6, 0));
            assertEquals(List.of(PcpResultCode.SUCCESS, 0L, (Object) new PcpOpcodeData.MapData(N2, 6, 8080, 8080, HOST6)),
                    List.of(deleted.result(), deleted.lifetime(), deleted.data()));
            assertEquals(List.of(), lan.table.view().mappings());
            assertEquals(Map.of(), lan.forwarder.routes());
        }
    }

    @Test
    void suggestionsAreHintsAndPreferFailureRefusesWhatAPinholeCannotBe() throws Exception {
        try (Lan lan = new Lan(List.of())) {
            InetAddress v4suggestion = ip("203.0.113.1");
            // §11.3: a hint the server cannot honour is replaced by what it assigns: the internal address and port
            PcpResponse hinted = lan.ask(HOST6, map(HOST6, N1, 17, 5000, 6000, v4suggestion, 600));
            assertEquals(new PcpOpcodeData.MapData(N1, 17, 5000, 5000, HOST6), hinted.data());
            PcpResponse other6 = lan.ask(HOST6, map(HOST6, N1, 17, 5001, 5001, ip("2001:db8:113::9"), 600));
            assertEquals(new PcpOpcodeData.MapData(N1, 17, 5001, 5001, HOST6), other6.data());
            assertEquals(2, lan.table.view().size());

            // §13.2 PREFER_FAILURE: an IPv4 external address (NAT64: not done here), another IPv6 one or another port
            for (byte[] refused : List.of(
                    map(HOST6, N1, 17, 5002, 5002, v4suggestion, 600, new PcpOption.PreferFailure()),
                    map(HOST6, N1, 17, 5002, 5002, ip("2001:db8:113::9"), 600, new PcpOption.PreferFailure()),
                    map(HOST6, N1, 17, 5002, 6002, NO_PREFERENCE_V6, 600, new PcpOption.PreferFailure()))) {
                PcpResponse r = lan.ask(HOST6, refused);
                assertEquals(List.of(PcpResultCode.CANNOT_PROVIDE_EXTERNAL, 30L), List.of(r.result(), r.lifetime()));
            }
            assertEquals(2, lan.table.view().size(), "no side effect");
            // what it can be: both no-preference forms, or its own address, with its own port
            for (InetAddress ok : List.of(NO_PREFERENCE_V6, ip("0.0.0.0"), HOST6)) {
                PcpResponse r = lan.ask(HOST6, map(HOST6, N1, 17, 5002, 5002, ok, 600, new PcpOption.PreferFailure()));
                assertEquals(new PcpOpcodeData.MapData(N1, 17, 5002, 5002, HOST6), r.data(), "suggested " + ok);
            }
        }
    }

    @Test
    void filterPeerThirdPartyAndDescriptionWorkForIpv6() throws Exception {
        try (Lan lan = new Lan(List.of(Cidr.parse("fd00:77::10/128")))) {
            // FILTER: only 2001:db8:113::/64, any port
            PcpResponse filtered = lan.ask(HOST6, map(HOST6, N1, 6, 22, 0, NO_PREFERENCE_V6, 600,
                    new PcpOption.Filter(64, 0, ip("2001:db8:113::"))));
            assertEquals(PcpResultCode.SUCCESS, filtered.result());
            assertEquals(new RemoteFilter(ip("2001:db8:113::"), 64, 0), row(lan, HOST6, 22).remote());
            // an IPv4 filter for an IPv6 host: no NAT64
            assertEquals(PcpResultCode.MALFORMED_OPTION, lan.ask(HOST6, map(HOST6, N1, 6, 23, 0, NO_PREFERENCE_V6, 600,
                    new PcpOption.Filter(120, 0, ip("198.51.100.0")))).result());

            // PEER: the implicit pinhole of one flow, only that peer admitted
            PcpOpcodeData.PeerData peer = new PcpOpcodeData.PeerData(N1, 17, 9000, 0, NO_PREFERENCE_V6, 443, ip("2001:db8:113::2"));
            PcpResponse p = lan.ask(HOST6, PcpCodec.encodeRequest(new PcpRequest(PcpOpcode.PEER, 600, HOST6, peer,
                    List.of(new PcpOption.Description("call")))));
            assertEquals(new PcpOpcodeData.PeerData(N1, 17, 9000, 9000, HOST6, 443, ip("2001:db8:113::2")), p.data());
            Mapping peerRow = row(lan, HOST6, 9000);
            assertEquals(List.of(true, new RemoteFilter(ip("2001:db8:113::2"), 128, 443), "call"),
                    List.of(peerRow.pinhole(), peerRow.remote(), peerRow.description()));
            // a PEER with an IPv4 peer for an IPv6 host: no NAT64
            PcpOpcodeData.PeerData v4peer = new PcpOpcodeData.PeerData(N1, 17, 9001, 0, NO_PREFERENCE_V6, 443, ip("198.51.100.7"));
            assertEquals(PcpResultCode.MALFORMED_REQUEST, lan.ask(HOST6, PcpCodec.encodeRequest(new PcpRequest(PcpOpcode.PEER,
                    600, HOST6, v4peer, List.of()))).result());

            // THIRD_PARTY from an authorized client: the pinhole is the other host's, on its address
            PcpResponse third = lan.ask(HOST6, map(HOST6, N1, 6, 8443, 0, NO_PREFERENCE_V6, 600, new PcpOption.ThirdParty(OTHER6)));
            assertEquals(new PcpOpcodeData.MapData(N1, 6, 8443, 8443, OTHER6), third.data());
            assertEquals(List.of(new PcpOption.ThirdParty(OTHER6)), third.options());
            assertEquals(Owner.of(HOST6, Origin.PCP), row(lan, OTHER6, 8443).owner());
            // ... and from one that is not: NOT_AUTHORIZED, nothing opened
            PcpResponse denied = lan.ask(OTHER6, map(OTHER6, N1, 6, 8444, 0, NO_PREFERENCE_V6, 600, new PcpOption.ThirdParty(HOST6)));
            assertEquals(PcpResultCode.NOT_AUTHORIZED, denied.result());
            // first client wins: OTHER6's own request for its port 8443, held by HOST6's third-party pinhole
            PcpResponse taken = lan.ask(OTHER6, map(OTHER6, N2, 6, 8443, 0, NO_PREFERENCE_V6, 600));
            assertEquals(List.of(PcpResultCode.CANNOT_PROVIDE_EXTERNAL, 30L), List.of(taken.result(), taken.lifetime()));
            assertEquals(3, lan.table.view().size());
        }
    }

    @Test
    void withoutAPinholeForwarderTheRefusalIsNotAuthorizedWithNoSideEffectAndOneLine() throws Exception {
        try (Lan lan = new Lan(List.of(), false); LogCapture log = new LogCapture(PcpHandler.class)) {
            for (int port : new int[] {8080, 8081}) {
                PcpResponse r = lan.ask(HOST6, map(HOST6, N1, 6, port, 0, NO_PREFERENCE_V6, 600));
                assertEquals(List.of(PcpResultCode.NOT_AUTHORIZED, 1800L, (Object) new PcpOpcodeData.MapData(N1, 6, port, 0,
                        NO_PREFERENCE_V6)), List.of(r.result(), r.lifetime(), r.data()));
            }
            PcpOpcodeData.PeerData peer = new PcpOpcodeData.PeerData(N1, 17, 9000, 0, NO_PREFERENCE_V6, 443, ip("2001:db8:113::2"));
            assertEquals(PcpResultCode.NOT_AUTHORIZED, lan.ask(HOST6, PcpCodec.encodeRequest(
                    new PcpRequest(PcpOpcode.PEER, 600, HOST6, peer, List.of()))).result());
            assertEquals(List.of(), lan.table.view().mappings());
            assertEquals(Map.of(), lan.forwarder.routes());
            assertEquals(List.of("answering NOT_AUTHORIZED to PCP MAP and PEER from IPv6 hosts: pinholes need linux-gateway"
                    + " mode with kernel forwarding (dataplane.mode: linux-gateway, dataplane.forwarding: kernel)"),
                    log.lines(Level.INFO), "one line, not one per request");
            // IPv4 hosts still get NAT mappings
            InetAddress v4 = ip("192.168.77.10");
            PcpResponse nat = lan.ask(v4, map(v4, N1, 6, 8080, 0, ip("0.0.0.0"), 600));
            assertEquals(List.of(PcpResultCode.SUCCESS, ServerFixture.WAN),
                    List.of(nat.result(), ((PcpOpcodeData.MapData) nat.data()).externalAddress()));
        }
    }

    private static Mapping row(Lan lan, InetAddress host, int port) {
        return lan.table.view().mappings().stream().filter(m -> m.internal().equals(new Endpoint(host, port))).findFirst()
                .orElseThrow(() -> new AssertionError("no row for [" + host.getHostAddress() + "]:" + port));
    }

    private static ServerFixture.Received receive(DatagramSocket s) throws Exception {
        byte[] buf = new byte[2048];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        s.receive(p);
        return new ServerFixture.Received(Arrays.copyOf(buf, p.getLength()), (InetSocketAddress) p.getSocketAddress());
    }
}
