package io.natgw.pcp;

import io.natgw.conf.Cidr;
import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.Mapping;
import io.natgw.core.Origin;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static io.natgw.pcp.ServerFixture.CLIENT;
import static io.natgw.pcp.ServerFixture.OTHER_CLIENT;
import static io.natgw.pcp.ServerFixture.WAN;
import static io.natgw.pcp.ServerFixture.ip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** PCP (RFC 6887) over real UDP on loopback, against a real table. */
class PcpServerTest {

    static final PcpNonce N1 = new PcpNonce("111111111111111111111111");
    static final PcpNonce N2 = new PcpNonce("222222222222222222222222");
    static final InetAddress NO_PREFERENCE_V4 = ip("0.0.0.0");
    static final InetAddress NO_PREFERENCE_V6 = ip("::");

    private ServerFixture fx;
    private ServerFixture.Client client;

    @BeforeEach
    void start() throws Exception {
        fx = new ServerFixture();
        client = fx.client(CLIENT);
    }

    @AfterEach
    void stop() throws Exception {
        fx.close();
    }

    @Test
    void mapGrantsTheSuggestedPortAndEchoesTheRequest() throws Exception {
        PcpResponse r = ask(client, map(CLIENT, N1, 6, 6000, 40000, NO_PREFERENCE_V4, 7200));
        assertEquals(new PcpResponse(1, PcpResultCode.SUCCESS, 7200, 0,
                new PcpOpcodeData.MapData(N1, 6, 6000, 40000, WAN), List.of()), r);
        Mapping m = fx.rows().get(0);
        assertEquals(List.of(Protocol.TCP, 40000, new Endpoint(CLIENT, 6000), Owner.of(CLIENT, Origin.PCP), N1.hex()),
                List.of(m.protocol(), m.externalPort(), m.internal(), m.owner(), m.nonce()));
    }

    /**
     * Issue 13: a mapping's answer is completed on the table's writer thread and sent from there on the native epoll
     * socket, with no hand-off back to the event loop.
     */
    @Test
    void aMappingAnswerLeavesFromTheTablesThreadWithoutAHandOff() throws Exception {
        if (!io.netty.channel.epoll.Epoll.isAvailable()) {
            String why = "native epoll does not load here: " + io.netty.channel.epoll.Epoll.unavailabilityCause();
            if ("1".equals(System.getenv("NATGW_REQUIRE_ALL"))) {
                throw new AssertionError("NATGW_REQUIRE_ALL=1 and " + why);
            }
            org.junit.jupiter.api.Assumptions.abort(why);
        }
        // The table's writer is held in a listener until the event loop has handed the request over and is idle:
        // the answer is then completed on the writer (an in-memory table may otherwise answer before the event loop
        // asks to be told, and the event loop would send it itself).
        java.util.concurrent.CountDownLatch inWriter = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        fx.table.addListener(new io.natgw.core.TableListener() {
            @Override
            public void committed(List<io.natgw.core.Change> changes) {
                inWriter.countDown();
                try {
                    go.await(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        client.send(map(CLIENT, N1, 6, 6000, 40000, NO_PREFERENCE_V4, 7200));
        try {
            org.junit.jupiter.api.Assertions.assertTrue(inWriter.await(30, java.util.concurrent.TimeUnit.SECONDS));
            fx.server.eventLoop().submit(() -> { }).get(30, java.util.concurrent.TimeUnit.SECONDS); // the loop is done
        } finally {
            go.countDown();
        }
        PcpResponse r = decode(client.receive().bytes());
        assertEquals(PcpResultCode.SUCCESS, r.result());
        assertEquals(1, fx.server.repliesSentOffLoop(), "sent from the table's thread");
        assertEquals(1, fx.rows().size());
    }

    @Test
    void bothNoPreferenceFormsAreAccepted() throws Exception {
        PcpResponse v4 = ask(client, map(CLIENT, N1, 17, 5000, 0, NO_PREFERENCE_V4, 600));
        PcpResponse v6 = ask(client, map(CLIENT, N2, 17, 5001, 0, NO_PREFERENCE_V6, 600));
        assertEquals(List.of(PcpResultCode.SUCCESS, PcpResultCode.SUCCESS), List.of(v4.result(), v6.result()));
        assertEquals(WAN, ((PcpOpcodeData.MapData) v6.data()).externalAddress());
        assertEquals(2, fx.rows().size());
    }

    @Test
    void anotherClientsPortYieldsAnotherPortOrCannotProvideWithPreferFailure() throws Exception {
        ask(client, map(CLIENT, N1, 6, 6000, 40000, NO_PREFERENCE_V4, 7200));
        ServerFixture.Client other = fx.client(OTHER_CLIENT);
        PcpResponse alternative = ask(other, map(OTHER_CLIENT, N2, 6, 6000, 40000, NO_PREFERENCE_V4, 7200));
        assertEquals(PcpResultCode.SUCCESS, alternative.result());
        assertNotEquals(40000, ((PcpOpcodeData.MapData) alternative.data()).externalPort());

        PcpResponse refused = ask(other, map(OTHER_CLIENT, N2, 6, 6001, 40000, NO_PREFERENCE_V4, 7200, new PcpOption.PreferFailure()));
        assertEquals(PcpResultCode.CANNOT_PROVIDE_EXTERNAL, refused.result());
        assertEquals(30, refused.lifetime()); // short-lived error
        assertEquals(new PcpOpcodeData.MapData(N2, 6, 6001, 40000, NO_PREFERENCE_V4), refused.data()); // echoed exactly
        assertEquals(List.of(new PcpOption.PreferFailure()), refused.options());
        assertEquals(2, fx.rows().size());
    }

    @Test
    void preferFailureGetsTheFreePort() throws Exception {
        PcpResponse r = ask(client, map(CLIENT, N1, 6, 6000, 40001, NO_PREFERENCE_V4, 7200, new PcpOption.PreferFailure()));
        assertEquals(PcpResultCode.SUCCESS, r.result());
        assertEquals(40001, ((PcpOpcodeData.MapData) r.data()).externalPort());
    }

    @Test
    void refreshKeepsThePortWithTheSameOrANewNonce() throws Exception {
        int port = externalPort(ask(client, map(CLIENT, N1, 17, 5000, 0, NO_PREFERENCE_V4, 600)));
        fx.clock.advance(Duration.ofSeconds(100));
        PcpResponse same = ask(client, map(CLIENT, N1, 17, 5000, 0, NO_PREFERENCE_V4, 600));
        PcpResponse renonced = ask(client, map(CLIENT, N2, 17, 5000, 0, NO_PREFERENCE_V4, 600));
        assertEquals(List.of(port, port), List.of(externalPort(same), externalPort(renonced)));
        assertEquals(100, renonced.epoch());
        assertEquals(N2.hex(), fx.rows().get(0).nonce()); // the new nonce is adopted
        assertEquals(1, fx.rows().size());
    }

    @Test
    void strictNonceRefusesARefreshWithAnotherNonce() throws Exception {
        try (ServerFixture strict = new ServerFixture(ServerFixture.Options.defaults().strictNonce(true))) {
            ServerFixture.Client c = strict.client(CLIENT);
            int port = externalPort(ask(c, map(CLIENT, N1, 17, 5000, 0, NO_PREFERENCE_V4, 600)));
            PcpResponse r = ask(c, map(CLIENT, N2, 17, 5000, 0, NO_PREFERENCE_V4, 600));
            assertEquals(PcpResultCode.NOT_AUTHORIZED, r.result());
            assertEquals(1800, r.lifetime());
            assertEquals(port, externalPort(ask(c, map(CLIENT, N1, 17, 5000, 0, NO_PREFERENCE_V4, 600))));
        }
    }

    @Test
    void deleteNeedsTheMappingsNonce() throws Exception {
        int port = externalPort(ask(client, map(CLIENT, N1, 6, 6000, 0, NO_PREFERENCE_V4, 600)));
        PcpResponse wrong = ask(client, map(CLIENT, N2, 6, 6000, 0, NO_PREFERENCE_V4, 0));
        assertEquals(PcpResultCode.NOT_AUTHORIZED, wrong.result());
        assertEquals(1, fx.rows().size());

        PcpResponse deleted = ask(client, map(CLIENT, N1, 6, 6000, 0, NO_PREFERENCE_V4, 0));
        assertEquals(new PcpResponse(1, PcpResultCode.SUCCESS, 0, 0, new PcpOpcodeData.MapData(N1, 6, 6000, port, WAN), List.of()),
                deleted);
        assertEquals(List.of(), fx.rows());
    }

    @Test
    void lifetimeIsClamped() throws Exception {
        assertEquals(86400, ask(client, map(CLIENT, N1, 6, 6000, 0, NO_PREFERENCE_V4, 3_600_000)).lifetime());
        assertEquals(120, ask(client, map(CLIENT, N2, 6, 6001, 0, NO_PREFERENCE_V4, 1)).lifetime());
    }

    @Test
    void clientAddressOtherThanTheSourceIsAddressMismatch() throws Exception {
        ask(client, map(CLIENT, N1, 6, 6000, 0, NO_PREFERENCE_V4, 600));
        PcpResponse r = ask(client, map(ip("127.0.0.5"), N1, 6, 6000, 0, NO_PREFERENCE_V4, 600));
        assertEquals(PcpResultCode.ADDRESS_MISMATCH, r.result());
        assertEquals(1800, r.lifetime());
        // portmapper's discovery probe: client 0.0.0.0, protocol 0, lifetime 0 -- never "delete all"
        PcpResponse probe = ask(client, map(NO_PREFERENCE_V4, N2, 0, 0, 0, NO_PREFERENCE_V4, 0));
        assertEquals(PcpResultCode.ADDRESS_MISMATCH, probe.result());
        assertEquals(1, fx.rows().size());
    }

    @Test
    void protocolZeroLifetimeZeroDeletesAllOfTheClientsMappingsWithTheirNonce() throws Exception {
        ask(client, map(CLIENT, N1, 6, 6000, 0, NO_PREFERENCE_V4, 600));
        ask(client, map(CLIENT, N1, 17, 6000, 0, NO_PREFERENCE_V4, 600));
        assertEquals(PcpResultCode.SUCCESS, ask(client, map(CLIENT, N1, 0, 0, 0, NO_PREFERENCE_V4, 0)).result());
        assertEquals(List.of(), fx.rows());
    }

    @Test
    void thirdPartyOnlyFromConfiguredClients() throws Exception {
        InetAddress host = ip("127.0.0.9");
        PcpResponse refused = ask(client, map(CLIENT, N1, 6, 6000, 0, NO_PREFERENCE_V4, 600, new PcpOption.ThirdParty(host)));
        assertEquals(PcpResultCode.NOT_AUTHORIZED, refused.result());
        assertEquals(List.of(), fx.rows());

        try (ServerFixture admin = new ServerFixture(ServerFixture.Options.defaults().thirdParty(List.of(Cidr.parse("127.0.0.1/32"))))) {
            ServerFixture.Client c = admin.client(CLIENT);
            PcpResponse granted = ask(c, map(CLIENT, N1, 6, 6000, 0, NO_PREFERENCE_V4, 600, new PcpOption.ThirdParty(host)));
            assertEquals(PcpResultCode.SUCCESS, granted.result());
            assertEquals(List.of(new PcpOption.ThirdParty(host)), granted.options());
            assertEquals(new Endpoint(host, 6000), admin.rows().get(0).internal());
            // and it deletes with the same option and nonce
            assertEquals(PcpResultCode.SUCCESS, ask(c, map(CLIENT, N1, 6, 6000, 0, NO_PREFERENCE_V4, 0, new PcpOption.ThirdParty(host))).result());
            assertEquals(List.of(), admin.rows());
        }
    }

    @Test
    void filterIsStoredWithTheMapping() throws Exception {
        PcpOption.Filter filter = new PcpOption.Filter(120, 8080, ip("198.51.100.0"));
        PcpResponse r = ask(client, map(CLIENT, N1, 6, 6000, 0, NO_PREFERENCE_V4, 600, filter));
        assertEquals(PcpResultCode.SUCCESS, r.result());
        assertEquals(List.of(filter), r.options());
        RemoteFilter stored = fx.rows().get(0).remote();
        assertEquals(new RemoteFilter(ip("198.51.100.0"), 24, 8080), stored);
        assertEquals(List.of(true, false, false), List.of(stored.admits(ip("198.51.100.77"), 8080),
                stored.admits(ip("198.51.101.1"), 8080), stored.admits(ip("198.51.100.77"), 8081)));
    }

    @Test
    void moreFiltersThanOneAreExcessive() throws Exception {
        PcpResponse r = ask(client, map(CLIENT, N1, 6, 6000, 0, NO_PREFERENCE_V4, 600,
                new PcpOption.Filter(128, 0, ip("198.51.100.1")), new PcpOption.Filter(128, 0, ip("198.51.100.2"))));
        assertEquals(PcpResultCode.EXCESSIVE_REMOTE_PEERS, r.result());
    }

    @Test
    void remotePeersOfAnotherAddressFamilyAreRefused() throws Exception {
        PcpResponse filter = ask(client, map(CLIENT, N1, 6, 6000, 0, NO_PREFERENCE_V4, 600, new PcpOption.Filter(128, 0, ip("2001:db8::1"))));
        assertEquals(PcpResultCode.MALFORMED_OPTION, filter.result());
        PcpResponse peer = ask(client, PcpCodec.encodeRequest(new PcpRequest(PcpOpcode.PEER, 600, CLIENT,
                new PcpOpcodeData.PeerData(N1, 6, 6000, 0, NO_PREFERENCE_V6, 443, ip("2001:db8::1")), List.of())));
        assertEquals(PcpResultCode.MALFORMED_REQUEST, peer.result());
        assertEquals(List.of(), fx.rows());
    }

    @Test
    void descriptionIsStoredWithTheMapping() throws Exception {
        ask(client, map(CLIENT, N1, 6, 6000, 0, NO_PREFERENCE_V4, 600, new PcpOption.Description("game server")));
        assertEquals("game server", fx.rows().get(0).description());
    }

    @Test
    void peerCreatesTheImplicitMappingForThatPeer() throws Exception {
        InetAddress peer = ip("198.51.100.7");
        PcpRequest request = new PcpRequest(PcpOpcode.PEER, 600, CLIENT,
                new PcpOpcodeData.PeerData(N1, 6, 6000, 6000, NO_PREFERENCE_V6, 443, peer), List.of());
        PcpResponse r = ask(client, PcpCodec.encodeRequest(request));
        assertEquals(PcpResultCode.SUCCESS, r.result());
        PcpOpcodeData.PeerData d = (PcpOpcodeData.PeerData) r.data();
        assertEquals(List.of(6000, 443, peer, WAN), List.of(d.externalPort(), d.remotePort(), d.remoteAddress(), d.externalAddress()));
        Mapping m = fx.rows().get(0);
        assertEquals(new RemoteFilter(peer, 32, 443), m.remote());
        // a PEER refresh keeps it
        assertEquals(6000, ((PcpOpcodeData.PeerData) ask(client, PcpCodec.encodeRequest(request)).data()).externalPort());
        assertEquals(1, fx.rows().size());
    }

    @Test
    void announceIsAnsweredWithSuccessAndTheEpoch() throws Exception {
        fx.clock.advance(Duration.ofSeconds(7));
        assertEquals(new PcpResponse(0, PcpResultCode.SUCCESS, 0, 7, new PcpOpcodeData.Announce(), List.of()),
                ask(client, PcpCodecTest.ANNOUNCE));
    }

    @Test
    void malformedRequestsAreAnsweredWithTheirCode() throws Exception {
        byte[] short20 = Bytes.cut(PcpCodecTest.ANNOUNCE, 20);
        byte[] reply = client.exchange(short20);
        assertEquals(24, reply.length);
        assertEquals(PcpResultCode.MALFORMED_REQUEST, decode(reply).result());

        byte[] opcode9 = PcpCodecTest.ANNOUNCE.clone();
        opcode9[1] = 9;
        PcpResponse unsupp = decode(client.exchange(opcode9));
        assertEquals(List.of(9, PcpResultCode.UNSUPP_OPCODE), List.of(unsupp.opcode(), unsupp.result()));

        byte[] withUnknown = Bytes.concat(PcpCodecTest.MAP_REQUEST, PcpCodecTest.UNKNOWN_MANDATORY);
        byte[] echoed = client.exchange(withUnknown);
        assertEquals(PcpResultCode.UNSUPP_OPTION.wire(), echoed[3]);
        assertArrayEquals(Arrays.copyOfRange(withUnknown, 24, withUnknown.length), Arrays.copyOfRange(echoed, 24, echoed.length));

        byte[] tooLong = new byte[1104];
        System.arraycopy(PcpCodecTest.MAP_REQUEST, 0, tooLong, 0, 60);
        assertEquals(PcpResultCode.MALFORMED_REQUEST, decode(client.exchange(tooLong)).result());
        assertEquals(PcpResultCode.MALFORMED_REQUEST, decode(client.exchange(Bytes.cut(PcpCodecTest.MAP_REQUEST, 56))).result());
        assertEquals(List.of(), fx.rows());
    }

    @Test
    void unsupportedVersionNamesVersionTwo() throws Exception {
        byte[] v3 = PcpCodecTest.MAP_REQUEST.clone();
        v3[0] = 3;
        byte[] reply = client.exchange(v3);
        assertEquals(List.of(2, PcpResultCode.UNSUPP_VERSION.wire()), List.of((int) reply[0], (int) reply[3]));
    }

    @Test
    void responsesAreIgnored() throws Exception {
        client.send(PcpCodecTest.MAP_RESPONSE);
        client.send(Bytes.of(2));
        assertEquals(PcpResultCode.SUCCESS, ask(client, PcpCodecTest.ANNOUNCE).result()); // the first reply is this one
        assertEquals(2, fx.server.stats().ignored());
    }

    @Test
    void otherProtocolsAreUnsupported() throws Exception {
        assertEquals(PcpResultCode.UNSUPP_PROTOCOL, ask(client, map(CLIENT, N1, 132, 6000, 0, NO_PREFERENCE_V4, 600)).result());
    }

    @Test
    void quotaIsUserExceededQuota() throws Exception {
        try (ServerFixture small = new ServerFixture(ServerFixture.Options.defaults().quota(1))) {
            ServerFixture.Client c = small.client(CLIENT);
            ask(c, map(CLIENT, N1, 6, 6000, 0, NO_PREFERENCE_V4, 600));
            PcpResponse r = ask(c, map(CLIENT, N2, 6, 6001, 0, NO_PREFERENCE_V4, 600));
            assertEquals(List.of(PcpResultCode.USER_EX_QUOTA, 30L), List.of(r.result(), r.lifetime()));
        }
    }

    @Test
    void statsCountRequestsByProtocolAndResult() throws Exception {
        ask(client, map(CLIENT, N1, 6, 6000, 0, NO_PREFERENCE_V4, 600));
        ask(client, map(ip("127.0.0.5"), N1, 6, 6000, 0, NO_PREFERENCE_V4, 600));
        client.exchange(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST);
        PcpStats s = fx.server.stats();
        assertEquals(List.of(2L, 1L, 1L, 1L, 1L, 1L), List.of(s.pcpRequests(), s.natPmpRequests(), s.pcp(PcpResultCode.SUCCESS),
                s.pcp(PcpResultCode.ADDRESS_MISMATCH), s.natPmp(NatPmpResultCode.SUCCESS), s.refusals()));
    }

    static byte[] map(InetAddress clientField, PcpNonce nonce, int protocol, int internal, int suggested,
                      InetAddress suggestedAddress, long lifetime, PcpOption... options) {
        return PcpCodec.encodeRequest(new PcpRequest(PcpOpcode.MAP, lifetime, clientField,
                new PcpOpcodeData.MapData(nonce, protocol, internal, suggested, suggestedAddress), List.of(options)));
    }

    static PcpResponse ask(ServerFixture.Client c, byte[] request) throws Exception {
        return decode(c.exchange(request));
    }

    static PcpResponse decode(byte[] reply) throws PcpFormatException {
        return PcpCodec.decodeResponse(ByteBuffer.wrap(reply));
    }

    static int externalPort(PcpResponse r) {
        return ((PcpOpcodeData.MapData) r.data()).externalPort();
    }
}
