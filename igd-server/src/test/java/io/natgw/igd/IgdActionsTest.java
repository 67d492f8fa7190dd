package io.natgw.igd;

import io.natgw.conf.Protocol;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import io.natgw.core.WanLink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The WANIPConnection actions over real HTTP and SOAP against a real table: each spec error code, ownership
 * between two LAN hosts (127.0.0.1 and 127.0.0.2 on loopback), lease rules of v1 and v2.
 */
class IgdActionsTest {

    private static final InetAddress A = TestGateway.address("127.0.0.1");
    private static final InetAddress B = TestGateway.address("127.0.0.2");
    private static TestGateway gw;
    /** A 10 Gbit/s link up for 5e9 s whose byte counter has passed 2^32. */
    private static final WanLink.Reading UP = new WanLink.Reading("wan0", WanLink.State.UP, 5_000_000_000L, 1234, 77, 66,
            10_000_000_000L, 5_000_000_000L, null);
    private static final TestLink LINK = new TestLink(UP);
    private static Soap v1;
    private static Soap v2;

    @BeforeAll
    static void start() throws Exception {
        gw = TestGateway.start(TestGateway.config(true, 128), 0, LINK);
        v1 = gw.soap(1);
        v2 = gw.soap(2);
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
    }

    @BeforeEach
    void clean() throws Exception {
        LINK.set(UP);
        for (InetAddress who : List.of(A, B)) {
            for (String p : List.of("TCP", "UDP")) {
                v2.callFrom(who, "DeletePortMappingRange", "NewStartPort", "1", "NewEndPort", "65535", "NewProtocol", p,
                        "NewManage", "1");
            }
        }
        assertEquals(0, gw.table.view().size());
    }

    private static Soap.Result add(Soap s, InetAddress from, int external, String protocol, String client, String lease) throws Exception {
        return s.callFrom(from, "AddPortMapping", "NewRemoteHost", "", "NewExternalPort", Integer.toString(external),
                "NewProtocol", protocol, "NewInternalPort", "8000", "NewInternalClient", client, "NewEnabled", "1",
                "NewPortMappingDescription", "test " + external, "NewLeaseDuration", lease);
    }

    private static Mapping row(Protocol p, int port) {
        return gw.table.view().find(MappingKey.of(p, port)).orElseThrow();
    }

    private static long leaseSeconds(Mapping m) {
        return Duration.between(Instant.now(), m.expiresAt()).getSeconds();
    }

    @Test
    void statusActionsAnswerWhatTheSpecExpects() throws Exception {
        assertEquals(Map.of("NewExternalIPAddress", "127.0.1.1"), v1.call("GetExternalIPAddress").outputs());
        Soap.Result status = v1.call("GetStatusInfo");
        assertEquals(List.of("Connected", "ERROR_NONE", Long.toString(5_000_000_000L & 0xffffffffL)),
                List.of(status.out("NewConnectionStatus"), status.out("NewLastConnectionError"), status.out("NewUptime")));
        assertEquals(Map.of("NewConnectionType", "IP_Routed", "NewPossibleConnectionTypes", "IP_Routed"),
                v2.call("GetConnectionTypeInfo").outputs());
        assertEquals(Map.of("NewRSIPAvailable", "0", "NewNATEnabled", "1"), v1.call("GetNATRSIPStatus").outputs());
        assertEquals(List.of(731, 606, 606), List.of(v1.call("SetConnectionType", "NewConnectionType", "IP_Bridged").errorCode(),
                v1.call("RequestConnection").errorCode(), v2.call("ForceTermination").errorCode()));
        Soap.Result q = v1.call("QueryStateVariable", "varName", "ExternalIPAddress");
        assertTrue(q.body().contains("127.0.1.1"), q.body());
    }

    @Test
    void commonInterfaceConfigReportsTheLinkCountersWrappedToUi4() throws Exception {
        Soap common = common();
        assertEquals(Map.of("NewTotalBytesReceived", Long.toString(5_000_000_000L & 0xffffffffL)),
                common.call("GetTotalBytesReceived").outputs());
        assertEquals(Map.of("NewTotalBytesSent", "1234"), common.call("GetTotalBytesSent").outputs());
        assertEquals(Map.of("NewTotalPacketsReceived", "77"), common.call("GetTotalPacketsReceived").outputs());
        assertEquals(Map.of("NewTotalPacketsSent", "66"), common.call("GetTotalPacketsSent").outputs());
        // 10 Gbit/s does not fit a ui4: a rate saturates rather than wraps
        assertEquals(Map.of("NewWANAccessType", "Ethernet", "NewLayer1UpstreamMaxBitRate", "4294967295",
                "NewLayer1DownstreamMaxBitRate", "4294967295", "NewPhysicalLinkStatus", "Up"),
                common.call("GetCommonLinkProperties").outputs());
        Soap l3f = new Soap(Descriptions.controlUrl(gw.description(2), "urn:schemas-upnp-org:service:Layer3Forwarding:1"),
                "urn:schemas-upnp-org:service:Layer3Forwarding:1");
        assertTrue(l3f.call("GetDefaultConnectionService").out("NewDefaultConnectionService")
                .endsWith(":WANConnectionDevice:2,urn:upnp-org:serviceId:WANIPConn1"));
    }

    private static Soap common() throws Exception {
        return new Soap(Descriptions.controlUrl(gw.description(1), "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1"),
                "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1");
    }

    private static List<String> statusInfo(Soap s) throws Exception {
        Soap.Result r = s.call("GetStatusInfo");
        assertEquals(0, r.errorCode(), r.body());
        return List.of(r.out("NewConnectionStatus"), r.out("NewLastConnectionError"), r.out("NewUptime"));
    }

    @Test
    void aLinkThatIsDownIsDisconnectedWithNoCarrier() throws Exception {
        LINK.set(new WanLink.Reading("wan0", WanLink.State.DOWN, 10, 20, 1, 2, -1, -1, "operstate down"));
        assertEquals(List.of("Disconnected", "ERROR_NO_CARRIER", "0"), statusInfo(v1));
        assertEquals(List.of("Disconnected", "ERROR_NO_CARRIER", "0"), statusInfo(v2));
        assertEquals(Map.of("NewWANAccessType", "Ethernet", "NewLayer1UpstreamMaxBitRate", "0",
                "NewLayer1DownstreamMaxBitRate", "0", "NewPhysicalLinkStatus", "Down"), common().call("GetCommonLinkProperties").outputs());
        assertTrue(v1.call("QueryStateVariable", "varName", "ConnectionStatus").body().contains("Disconnected"));
    }

    @Test
    void aLinkComingUpIsConnecting() throws Exception {
        LINK.set(new WanLink.Reading("wan0", WanLink.State.INITIALIZING, 0, 0, 0, 0, -1, -1, "operstate dormant"));
        assertEquals(List.of("Connecting", "ERROR_NONE", "0"), statusInfo(v1));
        assertEquals("Initializing", common().call("GetCommonLinkProperties").out("NewPhysicalLinkStatus"));
    }

    @Test
    void noInterfaceOrAnUnreadableOneIsUnavailableAndCountsZero() throws Exception {
        LINK.set(WanLink.Reading.absent("no interface holds the WAN address 127.0.1.1"));
        assertEquals(List.of("Disconnected", "ERROR_IP_CONFIGURATION", "0"), statusInfo(v1));
        Soap common = common();
        assertEquals("Unavailable", common.call("GetCommonLinkProperties").out("NewPhysicalLinkStatus"));
        for (String counter : List.of("BytesSent", "BytesReceived", "PacketsSent", "PacketsReceived")) {
            assertEquals(Map.of("NewTotal" + counter, "0"), common.call("GetTotal" + counter).outputs(), counter);
        }
        LINK.set(new WanLink.Reading("wan0", WanLink.State.UNKNOWN, -1, 5, -1, -1, -1, -1, "unexpected operstate"));
        assertEquals(List.of("Disconnected", "ERROR_UNKNOWN", "0"), statusInfo(v2));
        assertEquals(Map.of("NewTotalBytesSent", "5"), common.call("GetTotalBytesSent").outputs());
    }

    @Test
    void addThenReadBackBothWaysAcrossVersions() throws Exception {
        assertEquals(0, add(v1, A, 9001, "TCP", "127.0.0.1", "3600").errorCode());
        Soap.Result specific = v2.call("GetSpecificPortMappingEntry", "NewRemoteHost", "", "NewExternalPort", "9001",
                "NewProtocol", "TCP");
        assertEquals(List.of("8000", "127.0.0.1", "1", "test 9001"), List.of(specific.out("NewInternalPort"),
                specific.out("NewInternalClient"), specific.out("NewEnabled"), specific.out("NewPortMappingDescription")));
        long lease = Long.parseLong(specific.out("NewLeaseDuration"));
        assertTrue(lease > 3590 && lease <= 3600, "lease " + lease);
        Soap.Result generic = v1.call("GetGenericPortMappingEntry", "NewPortMappingIndex", "0");
        assertEquals(List.of("9001", "TCP", "127.0.0.1"), List.of(generic.out("NewExternalPort"), generic.out("NewProtocol"),
                generic.out("NewInternalClient")));
        assertEquals(713, v1.call("GetGenericPortMappingEntry", "NewPortMappingIndex", "1").errorCode());
        assertEquals(714, v1.call("GetSpecificPortMappingEntry", "NewRemoteHost", "", "NewExternalPort", "9002",
                "NewProtocol", "TCP").errorCode());
    }

    @Test
    void zeroLeaseIsAWeekOnV2AndTheConfiguredValueOnV1() throws Exception {
        assertEquals(0, add(v2, A, 9003, "TCP", "127.0.0.1", "0").errorCode());
        assertEquals(0, add(v1, A, 9004, "TCP", "127.0.0.1", "0").errorCode());
        long v2Lease = leaseSeconds(row(Protocol.TCP, 9003));
        long v1Lease = leaseSeconds(row(Protocol.TCP, 9004));
        assertTrue(v2Lease > 604790 && v2Lease <= 604800, "v2 lease " + v2Lease);
        assertTrue(v1Lease > 7190 && v1Lease <= 7200, "v1 lease " + v1Lease);
    }

    @Test
    void firstClientWinsAndOnlyTheOwnerDeletes() throws Exception {
        assertEquals(0, add(v2, A, 9005, "UDP", "127.0.0.1", "600").errorCode());
        assertEquals(718, add(v2, B, 9005, "UDP", "127.0.0.2", "600").errorCode());
        assertEquals(606, v2.callFrom(B, "DeletePortMapping", "NewRemoteHost", "", "NewExternalPort", "9005",
                "NewProtocol", "UDP").errorCode());
        assertEquals("127.0.0.1", row(Protocol.UDP, 9005).internal().address().getHostAddress());
        Soap.Result any = v2.callFrom(B, "AddAnyPortMapping", "NewRemoteHost", "", "NewExternalPort", "9005",
                "NewProtocol", "UDP", "NewInternalPort", "8000", "NewInternalClient", "127.0.0.2", "NewEnabled", "1",
                "NewPortMappingDescription", "b", "NewLeaseDuration", "600");
        int reserved = Integer.parseInt(any.out("NewReservedPort"));
        assertTrue(reserved != 9005 && reserved > 0, any.body());
        assertEquals("127.0.0.2", row(Protocol.UDP, reserved).internal().address().getHostAddress());
        assertEquals(0, v2.callFrom(A, "DeletePortMapping", "NewRemoteHost", "", "NewExternalPort", "9005",
                "NewProtocol", "UDP").errorCode());
        assertEquals(714, v2.callFrom(A, "DeletePortMapping", "NewRemoteHost", "", "NewExternalPort", "9005",
                "NewProtocol", "UDP").errorCode());
    }

    @Test
    void secureModeRefusesMappingsForAnotherHost() throws Exception {
        assertEquals(606, add(v1, A, 9006, "TCP", "127.0.0.9", "600").errorCode());
        assertEquals(0, gw.table.view().size());
    }

    @Test
    void argumentErrors() throws Exception {
        assertEquals(716, add(v1, A, 0, "TCP", "127.0.0.1", "600").errorCode());
        assertEquals(402, add(v1, A, 9007, "ICMP", "127.0.0.1", "600").errorCode());
        assertEquals(402, add(v1, A, 9007, "TCP", "router.lan", "600").errorCode());
        assertEquals(402, add(v1, A, 9007, "TCP", "", "600").errorCode());
        assertEquals(402, add(v1, A, 9007, "TCP", "127.0.0.1", "soon").errorCode());
        assertEquals(402, v1.call("AddPortMapping", "NewExternalPort", "9007").errorCode(), "missing arguments");
        assertEquals(402, v1.call("DeletePortMapping", "NewRemoteHost", "", "NewExternalPort", "", "NewProtocol", "TCP").errorCode());
        assertEquals(401, v1.call("AddAnyPortMapping").errorCode(), "IGD:1 has no AddAnyPortMapping");
        assertEquals(733, v2.call("DeletePortMappingRange", "NewStartPort", "9000", "NewEndPort", "8000",
                "NewProtocol", "TCP", "NewManage", "0").errorCode());
        assertEquals(733, v2.call("GetListOfPortMappings", "NewStartPort", "9000", "NewEndPort", "8000",
                "NewProtocol", "TCP", "NewManage", "0", "NewNumberOfPorts", "10").errorCode());
        assertEquals(730, v2.call("DeletePortMappingRange", "NewStartPort", "1", "NewEndPort", "65535",
                "NewProtocol", "TCP", "NewManage", "0").errorCode());
        assertEquals(730, v2.call("GetListOfPortMappings", "NewStartPort", "1", "NewEndPort", "65535",
                "NewProtocol", "TCP", "NewManage", "1", "NewNumberOfPorts", "0").errorCode());
        assertEquals(0, gw.table.view().size());
    }

    @Test
    void aNegativeOrOutOfRangeLeaseIsRefusedNotAWeek() throws Exception {
        for (String lease : List.of("-1", "-604800", "4294967296", "99999999999", "+5")) {
            Soap.Result r = add(v2, A, 9020, "TCP", "127.0.0.1", lease);
            assertEquals(List.of(500, 402), List.of(r.status(), r.errorCode()), "NewLeaseDuration " + lease + ": " + r.body());
        }
        assertEquals(402, add(v1, A, 9020, "TCP", "127.0.0.1", "-1").errorCode(), "IGD:1 too");
        assertEquals(0, gw.table.view().size());
        assertEquals(0, add(v2, A, 9020, "TCP", "127.0.0.1", "4294967295").errorCode(), "the largest ui4 is a lease");
    }

    @Test
    void aDescriptionOverTheAdminApisLimitIsRefused() throws Exception {
        Soap.Result tooLong = v2.callFrom(A, "AddPortMapping", "NewRemoteHost", "", "NewExternalPort", "9021",
                "NewProtocol", "TCP", "NewInternalPort", "8000", "NewInternalClient", "127.0.0.1", "NewEnabled", "1",
                "NewPortMappingDescription", "d".repeat(WanIpConnection.MAX_DESCRIPTION + 1), "NewLeaseDuration", "600");
        assertEquals(List.of(500, 402), List.of(tooLong.status(), tooLong.errorCode()), tooLong.body());
        assertEquals(0, gw.table.view().size());
        Soap.Result fits = v2.callFrom(A, "AddPortMapping", "NewRemoteHost", "", "NewExternalPort", "9021",
                "NewProtocol", "TCP", "NewInternalPort", "8000", "NewInternalClient", "127.0.0.1", "NewEnabled", "1",
                "NewPortMappingDescription", "d".repeat(WanIpConnection.MAX_DESCRIPTION), "NewLeaseDuration", "600");
        assertEquals(0, fits.errorCode(), fits.body());
        assertEquals(WanIpConnection.MAX_DESCRIPTION, row(Protocol.TCP, 9021).description().length());
    }

    @Test
    void disabledEntryStaysListedButDoesNotForward() throws Exception {
        Soap.Result r = v1.call("AddPortMapping", "NewRemoteHost", "", "NewExternalPort", "9008", "NewProtocol", "TCP",
                "NewInternalPort", "8000", "NewInternalClient", "127.0.0.1", "NewEnabled", "0",
                "NewPortMappingDescription", "off", "NewLeaseDuration", "600");
        assertEquals(0, r.errorCode(), r.body());
        assertFalse(row(Protocol.TCP, 9008).enabled());
        assertEquals("0", v1.call("GetSpecificPortMappingEntry", "NewRemoteHost", "", "NewExternalPort", "9008",
                "NewProtocol", "TCP").out("NewEnabled"));
    }

    @Test
    void emptyProtocolDeletesTheCallersOwnOnBothProtocolsOnly() throws Exception {
        assertEquals(0, add(v2, A, 9009, "TCP", "127.0.0.1", "600").errorCode());
        assertEquals(0, add(v2, A, 9009, "UDP", "127.0.0.1", "600").errorCode());
        assertEquals(0, add(v2, B, 9010, "TCP", "127.0.0.2", "600").errorCode());
        // libp2p's client sends DeletePortMapping without a protocol
        assertEquals(714, v2.callFrom(A, "DeletePortMapping", "NewRemoteHost", "", "NewExternalPort", "9010",
                "NewProtocol", "").errorCode());
        assertEquals(0, v2.callFrom(A, "DeletePortMapping", "NewRemoteHost", "", "NewExternalPort", "9009",
                "NewProtocol", "").errorCode());
        assertEquals(List.of(MappingKey.of(Protocol.TCP, 9010)), gw.table.view().mappings().stream().map(Mapping::key).toList());
    }

    @Test
    void listOfPortMappingsShowsOwnRowsUnlessManagedAndEscapesDescriptions() throws Exception {
        assertEquals(0, v2.callFrom(A, "AddPortMapping", "NewRemoteHost", "", "NewExternalPort", "9011", "NewProtocol", "TCP",
                "NewInternalPort", "8000", "NewInternalClient", "127.0.0.1", "NewEnabled", "1",
                "NewPortMappingDescription", "a &amp; &lt;b&gt;", "NewLeaseDuration", "600").errorCode());
        assertEquals(0, add(v2, B, 9012, "TCP", "127.0.0.2", "600").errorCode());
        String own = v2.callFrom(A, "GetListOfPortMappings", "NewStartPort", "1", "NewEndPort", "65535",
                "NewProtocol", "TCP", "NewManage", "0", "NewNumberOfPorts", "0").body();
        assertTrue(own.contains("<![CDATA[") && own.contains("<p:NewExternalPort>9011</p:NewExternalPort>")
                && !own.contains(">9012<"), own);
        assertTrue(own.contains("<p:NewDescription>a &amp; &lt;b&gt;</p:NewDescription>"), own);
        String all = v2.callFrom(A, "GetListOfPortMappings", "NewStartPort", "1", "NewEndPort", "65535",
                "NewProtocol", "TCP", "NewManage", "1", "NewNumberOfPorts", "1").body();
        assertTrue(all.contains(">9011<") && !all.contains(">9012<"), "NewNumberOfPorts bounds the list: " + all);
    }
}
