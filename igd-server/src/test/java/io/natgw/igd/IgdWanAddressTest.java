package io.natgw.igd;

import io.natgw.conf.NatgwConfig;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What UPnP clients are told about the external address: the empty string when it is loopback (the test
 * gateway's WAN, 127.0.1.1) and network.wan.allowPrivate is off; network.wan.reportedAddress when it is set.
 * AddPortMapping works in both cases, on the bind address.
 */
class IgdWanAddressTest {

    private static NatgwConfig withWan(boolean allowPrivate, InetAddress reported) {
        NatgwConfig b = TestGateway.config(true, 128);
        NatgwConfig.Network n = b.network();
        return new NatgwConfig(b.source(), new NatgwConfig.Network(n.lanAddresses(), n.lanClients(), n.lanInterfaces(),
                n.wanAddress(), n.wanAuto(), n.wanInterface(), allowPrivate, reported), b.dataDir(), b.pcp(), b.upnp(),
                b.admin(), b.limits(), b.permissions(), b.staticMappings(), b.triggers(), b.dataplane());
    }

    private static Soap.Result add(Soap s, int port) throws Exception {
        return s.call("AddPortMapping", "NewRemoteHost", "", "NewExternalPort", Integer.toString(port),
                "NewProtocol", "TCP", "NewInternalPort", "8000", "NewInternalClient", "127.0.0.1", "NewEnabled", "1",
                "NewPortMappingDescription", "wan test", "NewLeaseDuration", "3600");
    }

    @Test
    void loopbackWanIsAnEmptyExternalAddressByDefault() throws Exception {
        try (TestGateway gw = TestGateway.start(withWan(false, null), 0, TestLink.up())) {
            for (int version : new int[] {1, 2}) {
                Soap s = gw.soap(version);
                assertEquals(Map.of("NewExternalIPAddress", ""), s.call("GetExternalIPAddress").outputs());
                assertEquals("", s.call("QueryStateVariable", "varName", "ExternalIPAddress").out("return"));
                assertEquals(200, add(s, 9100 + version).status());
            }
            assertEquals(2, gw.table.view().size());
        }
    }

    @Test
    void cgnatReportedAddressIsEmptyToo() throws Exception {
        try (TestGateway gw = TestGateway.start(withWan(false, TestGateway.address("100.100.1.1")), 0, TestLink.up())) {
            assertEquals(Map.of("NewExternalIPAddress", ""), gw.soap(2).call("GetExternalIPAddress").outputs());
        }
    }

    @Test
    void reportedAddressIsToldAndMappingsAreOnTheBindAddress() throws Exception {
        try (TestGateway gw = TestGateway.start(withWan(false, TestGateway.address("198.51.100.7")), 0, TestLink.up())) {
            Soap s = gw.soap(2);
            assertEquals(Map.of("NewExternalIPAddress", "198.51.100.7"), s.call("GetExternalIPAddress").outputs());
            assertEquals(200, add(s, 9200).status());
            assertEquals(TestGateway.WAN, gw.table.externalAddress());
        }
    }
}
