package io.natgw.pcp;

import io.natgw.conf.Protocol;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;

import static io.natgw.pcp.PcpServerTest.N1;
import static io.natgw.pcp.PcpServerTest.NO_PREFERENCE_V4;
import static io.natgw.pcp.ServerFixture.CLIENT;
import static io.natgw.pcp.ServerFixture.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What NAT-PMP and PCP clients are told about the external address: nothing usable when it is loopback
 * (the fixture's WAN, 127.0.1.1) and network.wan.allowPrivate is off; network.wan.reportedAddress instead
 * of the bind address when it is set, while mappings are still made on the bind address.
 */
class WanAddressReportTest {

    private static final InetAddress PUBLIC = ip("198.51.100.7");
    private static final Inet4Address NONE = NatPmpCodec.ipv4(new byte[4]);

    @Test
    void loopbackWanIsNetworkFailureForNatPmpAndPcpByDefault() throws Exception {
        try (ServerFixture fx = new ServerFixture(ServerFixture.Options.defaults(), false, null)) {
            ServerFixture.Client client = fx.client(CLIENT);
            assertEquals(new NatPmpResponse.ExternalAddress(NatPmpResultCode.NETWORK_FAILURE, 0, NONE),
                    NatPmpServerTest.decode(client.exchange(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST)));

            PcpResponse r = PcpServerTest.ask(client, PcpServerTest.map(CLIENT, N1, 6, 6000, 40000, NO_PREFERENCE_V4, 7200));
            assertEquals(PcpResultCode.NETWORK_FAILURE, r.result());
            for (long lifetime : new long[] {600, 0}) { // a PEER never deletes: lifetime 0 would map too
                PcpRequest peer = new PcpRequest(PcpOpcode.PEER, lifetime, CLIENT, new PcpOpcodeData.PeerData(N1, 6, 6000,
                        6000, PcpServerTest.NO_PREFERENCE_V6, 443, PUBLIC), List.of());
                assertEquals(PcpResultCode.NETWORK_FAILURE, PcpServerTest.ask(client, PcpCodec.encodeRequest(peer)).result());
            }
            assertEquals(List.of(), fx.rows()); // refused: nothing was mapped

            // NAT-PMP mappings still work (miniupnpd too maps; only the address is withheld).
            assertEquals(new NatPmpResponse.Map(Protocol.TCP, NatPmpResultCode.SUCCESS, 0, 6000, 40000, 7200),
                    NatPmpServerTest.decode(client.exchange(NatPmpServerTest.map(Protocol.TCP, 6000, 40000, 7200))));
        }
    }

    @Test
    void cgnatReportedAddressIsNetworkFailureToo() throws Exception {
        try (ServerFixture fx = new ServerFixture(ServerFixture.Options.defaults(), false, ip("100.64.1.2"))) {
            assertEquals(new NatPmpResponse.ExternalAddress(NatPmpResultCode.NETWORK_FAILURE, 0, NONE),
                    NatPmpServerTest.decode(fx.client(CLIENT).exchange(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST)));
        }
    }

    @Test
    void allowPrivateReportsTheLoopbackWan() throws Exception {
        try (ServerFixture fx = new ServerFixture(ServerFixture.Options.defaults(), true, null)) {
            assertEquals(new NatPmpResponse.ExternalAddress(NatPmpResultCode.SUCCESS, 0, (Inet4Address) ServerFixture.WAN),
                    NatPmpServerTest.decode(fx.client(CLIENT).exchange(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST)));
        }
    }

    @Test
    void reportedAddressIsToldWhileTheMappingIsOnTheBindAddress() throws Exception {
        try (ServerFixture fx = new ServerFixture(ServerFixture.Options.defaults(), false, PUBLIC)) {
            ServerFixture.Client client = fx.client(CLIENT);
            assertEquals(new NatPmpResponse.ExternalAddress(NatPmpResultCode.SUCCESS, 0, (Inet4Address) PUBLIC),
                    NatPmpServerTest.decode(client.exchange(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST)));
            PcpResponse r = PcpServerTest.ask(client, PcpServerTest.map(CLIENT, N1, 6, 6000, 40000, NO_PREFERENCE_V4, 7200));
            assertEquals(new PcpResponse(1, PcpResultCode.SUCCESS, 7200, 0,
                    new PcpOpcodeData.MapData(N1, 6, 6000, 40000, PUBLIC), List.of()), r);
            assertEquals(ServerFixture.WAN, fx.table.externalAddress()); // bound where the table binds
            assertEquals(1, fx.rows().size());
        }
    }
}
