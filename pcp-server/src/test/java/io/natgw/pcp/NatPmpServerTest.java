package io.natgw.pcp;

import io.natgw.conf.Cidr;
import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.Mapping;
import io.natgw.core.Origin;
import io.natgw.core.Owner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;

import static io.natgw.pcp.ServerFixture.CLIENT;
import static io.natgw.pcp.ServerFixture.OTHER_CLIENT;
import static io.natgw.pcp.ServerFixture.WAN;
import static io.natgw.pcp.ServerFixture.ip;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** NAT-PMP (RFC 6886) over real UDP on loopback, against a real table. */
class NatPmpServerTest {

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
    void externalAddressIsTwelveOctetsWithTheEpoch() throws Exception {
        byte[] reply = client.exchange(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST);
        assertEquals(12, reply.length);
        assertEquals(new NatPmpResponse.ExternalAddress(NatPmpResultCode.SUCCESS, 0, (java.net.Inet4Address) WAN), decode(reply));

        fx.clock.advance(Duration.ofSeconds(90));
        assertEquals(new NatPmpResponse.ExternalAddress(NatPmpResultCode.SUCCESS, 90, (java.net.Inet4Address) WAN),
                decode(client.exchange(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST)));
    }

    @Test
    void mapGrantsTheSuggestedPortInSixteenOctets() throws Exception {
        byte[] reply = client.exchange(map(Protocol.TCP, 6000, 40000, 7200));
        assertEquals(16, reply.length);
        assertEquals(new NatPmpResponse.Map(Protocol.TCP, NatPmpResultCode.SUCCESS, 0, 6000, 40000, 7200), decode(reply));
        Mapping m = fx.rows().get(0);
        assertEquals(List.of(Protocol.TCP, 40000, new Endpoint(CLIENT, 6000), Owner.of(CLIENT, Origin.NATPMP)),
                List.of(m.protocol(), m.externalPort(), m.internal(), m.owner()));
    }

    @Test
    void refreshKeepsThePort() throws Exception {
        NatPmpResponse.Map first = (NatPmpResponse.Map) decode(client.exchange(map(Protocol.UDP, 5000, 0, 600)));
        fx.clock.advance(Duration.ofSeconds(300));
        NatPmpResponse.Map again = (NatPmpResponse.Map) decode(client.exchange(map(Protocol.UDP, 5000, 0, 600)));
        assertEquals(first.externalPort(), again.externalPort());
        assertEquals(600, again.lifetime());
        assertEquals(300, again.epoch());
        assertEquals(1, fx.rows().size());
    }

    @Test
    void lifetimeIsClampedToTheConfiguredBounds() throws Exception {
        assertEquals(86400, ((NatPmpResponse.Map) decode(client.exchange(map(Protocol.TCP, 7000, 0, 3_600_000)))).lifetime());
        assertEquals(120, ((NatPmpResponse.Map) decode(client.exchange(map(Protocol.TCP, 7001, 0, 10)))).lifetime());
    }

    @Test
    void lifetimeZeroDeletesWithExternalPortAndLifetimeZero() throws Exception {
        client.exchange(map(Protocol.TCP, 6000, 40000, 7200));
        assertEquals(new NatPmpResponse.Map(Protocol.TCP, NatPmpResultCode.SUCCESS, 0, 6000, 0, 0),
                decode(client.exchange(map(Protocol.TCP, 6000, 0, 0))));
        assertEquals(List.of(), fx.rows());
        // deleting what does not exist succeeds too (RFC 6886 §3.4)
        assertEquals(new NatPmpResponse.Map(Protocol.TCP, NatPmpResultCode.SUCCESS, 0, 6000, 0, 0),
                decode(client.exchange(map(Protocol.TCP, 6000, 0, 0))));
    }

    @Test
    void internalPortZeroWithLifetimeZeroDeletesAllOfThatProtocol() throws Exception {
        client.exchange(map(Protocol.UDP, 5000, 0, 600));
        client.exchange(map(Protocol.UDP, 5001, 0, 600));
        client.exchange(map(Protocol.TCP, 5000, 0, 600));
        assertEquals(3, fx.rows().size());
        client.exchange(NatPmpCodecTest.DELETE_ALL_UDP);
        assertEquals(List.of(Protocol.TCP), fx.rows().stream().map(Mapping::protocol).toList());
    }

    @Test
    void anotherClientsPortYieldsAnotherPort() throws Exception {
        client.exchange(map(Protocol.TCP, 6000, 40000, 7200));
        ServerFixture.Client other = fx.client(OTHER_CLIENT);
        NatPmpResponse.Map granted = (NatPmpResponse.Map) decode(other.exchange(map(Protocol.TCP, 6000, 40000, 7200)));
        assertEquals(NatPmpResultCode.SUCCESS, granted.result());
        assertNotEquals(40000, granted.externalPort());
        assertEquals(Owner.of(CLIENT, Origin.NATPMP), fx.table.view().range(Protocol.TCP, 40000, 40000, 1).get(0).owner());
    }

    @Test
    void refusalsMapToNatPmpCodes() throws Exception {
        // internal port 0 with a lifetime asks for nothing mappable: refused (2)
        assertEquals(NatPmpResultCode.NOT_AUTHORIZED, ((NatPmpResponse.Map) decode(client.exchange(map(Protocol.TCP, 0, 0, 60)))).result());
        assertEquals(NatPmpResultCode.OUT_OF_RESOURCES, NatPmpHandler.resultFor(io.natgw.core.Outcome.Reason.QUOTA_EXCEEDED));
        assertEquals(NatPmpResultCode.NETWORK_FAILURE, NatPmpHandler.resultFor(io.natgw.core.Outcome.Reason.UNAVAILABLE));
    }

    @Test
    void quotaExceededIsOutOfResources() throws Exception {
        try (ServerFixture small = new ServerFixture(ServerFixture.Options.defaults().quota(1))) {
            ServerFixture.Client c = small.client(CLIENT);
            c.exchange(map(Protocol.TCP, 6000, 0, 600));
            assertEquals(NatPmpResultCode.OUT_OF_RESOURCES, ((NatPmpResponse.Map) decode(c.exchange(map(Protocol.TCP, 6001, 0, 600)))).result());
        }
    }

    @Test
    void unsupportedOpcodeReturnsTheRequestWithResult5() throws Exception {
        assertArrayEquals(Bytes.of(0, 0x83, 0, 5, 1, 2, 3, 4), client.exchange(Bytes.of(0, 3, 0, 0, 1, 2, 3, 4)));
        assertEquals(1, fx.server.stats().natPmp(NatPmpResultCode.UNSUPPORTED_OPCODE));
    }

    @Test
    void responsesAndShortRequestsAreIgnored() throws Exception {
        client.send(NatPmpCodecTest.MAP_TCP_RESPONSE); // op 130: a response
        client.send(Bytes.of(0, 128));
        client.send(Bytes.cut(NatPmpCodecTest.MAP_TCP_REQUEST, 8));
        // the next reply is the one to this request: nothing was answered before it
        assertEquals(12, client.exchange(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST).length);
        assertEquals(3, fx.server.stats().ignored());
        assertEquals(List.of(), fx.rows());
    }

    @Test
    void otherVersionsGetPcpUnsupportedVersion() throws Exception {
        byte[] reply = client.exchange(Bytes.of(1, 0, 0, 0));
        PcpResponse r = PcpCodec.decodeResponse(ByteBuffer.wrap(reply));
        assertEquals(2, reply[0]); // names version 2
        assertEquals(PcpResultCode.UNSUPP_VERSION, r.result());
        assertEquals(1800, r.lifetime());
    }

    @Test
    void replyComesFromTheAddressTheClientSentTo() throws Exception {
        InetAddress second = ip("127.0.0.3");
        try (ServerFixture two = new ServerFixture(ServerFixture.Options.defaults()
                .lan(List.of(CLIENT, second), List.of(Cidr.parse("127.0.0.0/8"))))) {
            ServerFixture.Client c = two.client(CLIENT);
            for (var local : two.server.localAddresses()) {
                c.to(local).send(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST);
                assertEquals(local, c.receive().from());
            }
            assertEquals(List.of(CLIENT, second), two.server.localAddresses().stream().map(a -> a.getAddress()).toList());
        }
    }

    @Test
    void nonLanSourcesAreDropped() throws Exception {
        try (ServerFixture lanOnly = new ServerFixture(ServerFixture.Options.defaults()
                .lan(List.of(CLIENT), List.of(Cidr.parse("127.0.0.2/32"))))) {
            ServerFixture.Client outsider = lanOnly.client(CLIENT);
            outsider.send(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST);
            ServerFixture.Client insider = lanOnly.client(OTHER_CLIENT);
            assertEquals(12, insider.exchange(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST).length);
            await().until(() -> lanOnly.server.stats().notFromLan() == 1);
            assertEquals(null, outsider.poll(Duration.ofMillis(200)));
        }
    }

    @Test
    void overTheRateDatagramsAreCountedNotAnswered() throws Exception {
        try (ServerFixture limited = new ServerFixture(ServerFixture.Options.defaults().rate(5))) {
            ServerFixture.Client c = limited.client(CLIENT);
            for (int i = 0; i < 8; i++) {
                c.send(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST);
            }
            await().until(() -> limited.server.stats().rateLimited() == 3);
            int answered = 0;
            while (c.poll(Duration.ofMillis(300)) != null) {
                answered++;
            }
            assertEquals(5, answered);
            // a second later the bucket holds five tokens again
            limited.clock.advance(Duration.ofSeconds(1));
            assertEquals(12, c.exchange(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST).length);
            // another client has its own bucket
            assertEquals(12, limited.client(OTHER_CLIENT).exchange(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST).length);
            assertEquals(3, limited.server.stats().rateLimited());
        }
    }

    static byte[] map(Protocol protocol, int internal, int suggested, long lifetime) {
        return NatPmpCodec.encodeRequest(new NatPmpRequest.Map(protocol, internal, suggested, lifetime));
    }

    static NatPmpResponse decode(byte[] reply) throws PcpFormatException {
        return NatPmpCodec.decodeResponse(ByteBuffer.wrap(reply));
    }
}
