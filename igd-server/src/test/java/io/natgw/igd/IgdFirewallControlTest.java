package io.natgw.igd;

import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import io.natgw.core.Change;
import io.natgw.core.Forwarder;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import io.natgw.core.TrafficStats;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * WANIPv6FirewallControl:1 over real HTTP and SOAP against a real table: every action, each spec error code with
 * no side effect, ownership between two LAN hosts (127.0.0.1 and 127.0.0.2), and the refusal of every pinhole
 * (702) when the forwarder does not forward pinholes. The forwarder here forwards nothing but says it forwards
 * pinholes, and the packet counters are set by the test: the kernel's are the namespace test's
 * ({@code Ipv6PinholesE2eTest}).
 */
class IgdFirewallControlTest {

    static final String FC = "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1";
    private static final InetAddress A = TestGateway.address("127.0.0.1");
    private static final InetAddress B = TestGateway.address("127.0.0.2");
    private static final String HOST = "fd00:77::10";

    /** The dataplane's answer to "does it forward pinholes": yes; it records nothing. */
    static final Forwarder PINHOLES = new Forwarder() {
        @Override
        public void prepare(Change change) {
        }

        @Override
        public void abort(Change change) {
        }

        @Override
        public boolean forwardsPinholes() {
            return true;
        }
    };

    /** Counters the test sets per key. */
    static final class Counters implements TrafficStats {
        final Map<MappingKey, TrafficStats.Counters> byKey = new ConcurrentHashMap<>();

        @Override
        public TrafficStats.Counters totals() {
            return TrafficStats.Counters.ZERO;
        }

        @Override
        public TrafficStats.Counters of(MappingKey key) {
            return byKey.getOrDefault(key, TrafficStats.Counters.ZERO);
        }
    }

    static NatgwConfig config(boolean secureMode) {
        return config(secureMode, 128);
    }

    static NatgwConfig config(boolean secureMode, int quota) {
        NatgwConfig c = TestGateway.config(secureMode, quota);
        NatgwConfig.Network n = c.network();
        return new NatgwConfig(c.source(), new NatgwConfig.Network(n.lanAddresses(),
                List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("fd00:77::/64")), n.lanInterfaces(), n.wanAddress(), false,
                n.wanInterface()), c.dataDir(), c.pcp(), c.upnp(), c.admin(), c.limits(), c.permissions(),
                c.staticMappings(), c.triggers(), c.dataplane());
    }

    private static Soap fc(TestGateway gw) throws Exception {
        return new Soap(Descriptions.controlUrl(gw.description(2), FC), FC);
    }

    private static String[] add(String client, String port, String protocol, String lease) {
        return new String[] {"RemoteHost", "", "RemotePort", "0", "InternalClient", client, "InternalPort", port,
                "Protocol", protocol, "LeaseTime", lease};
    }

    @Test
    void theServiceIsInIgd2OnlyNextToWanIpConnection() throws Exception {
        try (TestGateway gw = TestGateway.start(config(false), PINHOLES, TrafficStats.NONE)) {
            RawHttp.Response v2 = RawHttp.get(gw.description(2), Map.of());
            assertTrue(v2.body().matches("(?s).*<deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:2</deviceType>.*"
                    + "WANIPConnection:2.*" + FC + ".*"), v2.body());
            assertTrue(!RawHttp.get(gw.description(1), Map.of()).body().contains("WANIPv6FirewallControl"));
            URI scpd = Descriptions.url(gw.description(2), FC, "SCPDURL");
            String body = RawHttp.get(scpd, Map.of()).body();
            for (String action : List.of("GetFirewallStatus", "GetOutboundPinholeTimeout", "AddPinhole", "UpdatePinhole",
                    "DeletePinhole", "GetPinholePackets", "CheckPinholeWorking")) {
                assertTrue(body.contains("<name>" + action + "</name>"), action + " in the SCPD:\n" + body);
            }
        }
    }

    @Test
    void withoutPinholeForwardingTheFirewallSaysSoAndRefusesEveryPinholeWith702() throws Exception {
        try (TestGateway gw = TestGateway.start(config(false), Forwarder.NONE, TrafficStats.NONE)) {
            Soap fc = fc(gw);
            Soap.Result status = fc.callFrom(A, "GetFirewallStatus");
            assertEquals(List.of("0", "0"), List.of(status.out("FirewallEnabled"), status.out("InboundPinholeAllowed")),
                    status.toString());
            assertEquals(702, fc.callFrom(A, "AddPinhole", add(HOST, "8080", "6", "3600")).errorCode());
            assertEquals(List.of(), gw.table.view().pinholes(), "nothing in the table");
            for (String action : List.of("DeletePinhole", "GetPinholePackets", "CheckPinholeWorking")) {
                assertEquals(702, fc.callFrom(A, action, "UniqueID", "1").errorCode(), action);
            }
            assertEquals(702, fc.callFrom(A, "UpdatePinhole", "UniqueID", "1", "NewLeaseTime", "60").errorCode());
            assertEquals(702, fc.callFrom(A, "GetOutboundPinholeTimeout", "RemoteHost", "", "RemotePort", "0",
                    "InternalClient", HOST, "InternalPort", "8080", "Protocol", "6").errorCode());
            // bad input still gets its own code first
            assertEquals(707, fc.callFrom(A, "AddPinhole", add(HOST, "8080", "65535", "3600")).errorCode());
        }
    }

    @Test
    void aPinholesLifeFromAddToDelete() throws Exception {
        Counters counters = new Counters();
        try (TestGateway gw = TestGateway.start(config(false), PINHOLES, counters)) {
            Soap fc = fc(gw);
            Soap.Result status = fc.callFrom(A, "GetFirewallStatus");
            assertEquals(List.of("1", "1"), List.of(status.out("FirewallEnabled"), status.out("InboundPinholeAllowed")));

            Soap.Result added = fc.callFrom(A, "AddPinhole", "RemoteHost", "2001:db8:113::2", "RemotePort", "0",
                    "InternalClient", HOST, "InternalPort", "8080", "Protocol", "6", "LeaseTime", "3600");
            assertTrue(added.ok(), added.toString());
            int id = Integer.parseInt(added.out("UniqueID"));
            Mapping m = gw.table.view().pinhole(id).orElseThrow();
            assertEquals(List.of(TestGateway.address(HOST), 8080, "tcp", TestGateway.address("2001:db8:113::2"), 8080),
                    List.of(m.internal().address(), m.internal().port(), m.protocol().label(), m.remote().address(),
                            m.externalPort()));

            Soap.Result again = fc.callFrom(A, "AddPinhole", "RemoteHost", "2001:db8:113::2", "RemotePort", "0",
                    "InternalClient", HOST, "InternalPort", "8080", "Protocol", "6", "LeaseTime", "60");
            assertEquals(Integer.toString(id), again.out("UniqueID"), "the same pinhole again: its lease, the same id");
            assertEquals(1, gw.table.view().pinholes().size());

            assertTrue(fc.callFrom(A, "UpdatePinhole", "UniqueID", Integer.toString(id), "NewLeaseTime", "7200").ok());
            Duration left = gw.table.view().pinhole(id).orElseThrow().remaining(Instant.now());
            assertTrue(left.getSeconds() > 3600 && left.getSeconds() <= 7200, "the new lease: " + left);

            assertEquals("0", fc.callFrom(A, "GetPinholePackets", "UniqueID", Integer.toString(id)).out("PinholePackets"));
            assertEquals(709, fc.callFrom(A, "CheckPinholeWorking", "UniqueID", Integer.toString(id)).errorCode(),
                    "709 NoPacketSent before any packet");
            counters.byKey.put(m.key(), new TrafficStats.Counters(700, 0, 5, 0, 1));
            assertEquals("5", fc.callFrom(A, "GetPinholePackets", "UniqueID", Integer.toString(id)).out("PinholePackets"));
            assertEquals("1", fc.callFrom(A, "CheckPinholeWorking", "UniqueID", Integer.toString(id)).out("IsWorking"));

            assertTrue(fc.callFrom(A, "DeletePinhole", "UniqueID", Integer.toString(id)).ok());
            assertEquals(List.of(), gw.table.view().pinholes());
            assertEquals(704, fc.callFrom(A, "DeletePinhole", "UniqueID", Integer.toString(id)).errorCode());
            assertEquals(704, fc.callFrom(A, "UpdatePinhole", "UniqueID", Integer.toString(id), "NewLeaseTime", "60").errorCode());
            assertEquals(704, fc.callFrom(A, "GetPinholePackets", "UniqueID", Integer.toString(id)).errorCode());
            assertEquals(List.of(), gw.table.view().pinholes(), "an update of a gone pinhole opens nothing");
        }
    }

    @Test
    void badInputGetsTheSpecsCodeAndChangesNothing() throws Exception {
        try (TestGateway gw = TestGateway.start(config(false), PINHOLES, TrafficStats.NONE)) {
            Soap fc = fc(gw);
            int id = Integer.parseInt(fc.callFrom(A, "AddPinhole", add(HOST, "8080", "17", "600")).out("UniqueID"));
            List<Mapping> before = gw.table.view().pinholes();
            Map<String, Integer> cases = new java.util.LinkedHashMap<>();
            record Case(String name, int code, String action, String[] args) {
            }
            List<Case> all = List.of(
                    new Case("wildcard protocol", 707, "AddPinhole", add(HOST, "8081", "65535", "600")),
                    new Case("SCTP", 705, "AddPinhole", add(HOST, "8081", "132", "600")),
                    new Case("internal port 0", 706, "AddPinhole", add(HOST, "0", "6", "600")),
                    new Case("lease 0", 402, "AddPinhole", add(HOST, "8081", "6", "0")),
                    new Case("lease over a day", 402, "AddPinhole", add(HOST, "8081", "6", "86401")),
                    new Case("lease -1", 402, "AddPinhole", add(HOST, "8081", "6", "-1")),
                    new Case("no internal client", 708, "AddPinhole", add("", "8081", "6", "600")),
                    new Case("an IPv4 internal client", 402, "AddPinhole", add("127.0.0.1", "8081", "6", "600")),
                    new Case("a link-local internal client", 402, "AddPinhole", add("fe80::1", "8081", "6", "600")),
                    new Case("an internal client outside lan.clients", 606, "AddPinhole", add("2001:db8:1::1", "8081", "6", "600")),
                    new Case("a remote host name", 402, "AddPinhole", new String[] {"RemoteHost", "example.com", "RemotePort", "0",
                            "InternalClient", HOST, "InternalPort", "8081", "Protocol", "6", "LeaseTime", "600"}),
                    new Case("port 65536", 402, "AddPinhole", add(HOST, "65536", "6", "600")),
                    new Case("update lease over a day", 402, "UpdatePinhole",
                            new String[] {"UniqueID", Integer.toString(id), "NewLeaseTime", "86401"}),
                    new Case("UniqueID beyond ui2", 402, "DeletePinhole", new String[] {"UniqueID", "70000"}),
                    new Case("an unknown UniqueID", 704, "DeletePinhole", new String[] {"UniqueID", Integer.toString(id + 1)}),
                    new Case("an unknown UniqueID's packets", 704, "GetPinholePackets", new String[] {"UniqueID", "0"}));
            for (Case c : all) {
                Soap.Result r = fc.callFrom(A, c.action(), c.args());
                cases.put(c.name(), r.errorCode());
            }
            Map<String, Integer> expected = new java.util.LinkedHashMap<>();
            all.forEach(c -> expected.put(c.name(), c.code()));
            assertEquals(expected, cases);
            assertEquals(before, gw.table.view().pinholes(), "no refused request changed the table");
        }
    }

    @Test
    void onlyTheOwnerUpdatesOrDeletesAPinhole() throws Exception {
        try (TestGateway gw = TestGateway.start(config(false), PINHOLES, TrafficStats.NONE)) {
            Soap fc = fc(gw);
            String id = fc.callFrom(A, "AddPinhole", add(HOST, "8080", "6", "600")).out("UniqueID");
            List<Mapping> before = gw.table.view().pinholes();
            assertEquals(606, fc.callFrom(B, "DeletePinhole", "UniqueID", id).errorCode(), "another client's UniqueID");
            assertEquals(606, fc.callFrom(B, "UpdatePinhole", "UniqueID", id, "NewLeaseTime", "86400").errorCode());
            assertEquals(606, fc.callFrom(B, "GetPinholePackets", "UniqueID", id).errorCode());
            assertEquals(606, fc.callFrom(B, "AddPinhole", add(HOST, "8080", "6", "600")).errorCode(),
                    "first client wins: B cannot take A's pinhole over");
            assertEquals(before, gw.table.view().pinholes());
            assertTrue(fc.callFrom(A, "DeletePinhole", "UniqueID", id).ok());
        }
    }

    @Test
    void aClientOverItsQuotaGets701AndNothingMore() throws Exception {
        try (TestGateway gw = TestGateway.start(config(false, 2), PINHOLES, TrafficStats.NONE)) {
            Soap fc = fc(gw);
            assertTrue(fc.callFrom(A, "AddPinhole", add(HOST, "8080", "6", "600")).ok());
            assertTrue(fc.callFrom(A, "AddPinhole", add(HOST, "8081", "6", "600")).ok());
            List<Mapping> before = gw.table.view().pinholes();
            assertEquals(701, fc.callFrom(A, "AddPinhole", add(HOST, "8082", "6", "600")).errorCode(),
                    "PinholeSpaceExhausted");
            assertEquals(before, gw.table.view().pinholes());
            assertTrue(fc.callFrom(B, "AddPinhole", add("fd00:77::11", "8082", "6", "600")).ok(), "another client's quota");
        }
    }

    @Test
    void secureModeOpensPinholesOnlyForTheCallersOwnAddress() throws Exception {
        try (TestGateway gw = TestGateway.start(config(true), PINHOLES, TrafficStats.NONE)) {
            assertEquals(606, fc(gw).callFrom(A, "AddPinhole", add(HOST, "8080", "6", "600")).errorCode(),
                    "127.0.0.1 asks for fd00:77::10: a third party");
            assertEquals(List.of(), gw.table.view().pinholes());
        }
    }

    @Test
    void outboundPinholeTimeoutIsConnectionTrackingsIdleTimeout() throws Exception {
        try (TestGateway gw = TestGateway.start(config(false), PINHOLES, TrafficStats.NONE)) {
            Path tcp = ConntrackTimeouts.SYSCTL.resolve("nf_conntrack_tcp_timeout_established");
            Soap.Result r = fc(gw).callFrom(A, "GetOutboundPinholeTimeout", "RemoteHost", "", "RemotePort", "0",
                    "InternalClient", HOST, "InternalPort", "8080", "Protocol", "6");
            if (Files.isReadable(tcp)) {
                // read as cat does (Files.readString returns only the first byte of a /proc/sys file)
                assertEquals(Files.readAllLines(tcp).get(0).trim(), r.out("OutboundPinholeTimeout"), r.toString());
            } else {
                assertEquals(501, r.errorCode(), "no connection tracking here: unknown, not a made-up figure");
            }
            assertEquals(705, fc(gw).callFrom(A, "GetOutboundPinholeTimeout", "RemoteHost", "", "RemotePort", "0",
                    "InternalClient", HOST, "InternalPort", "8080", "Protocol", "132").errorCode());
        }
        Path dir = Files.createTempDirectory("conntrack");
        Files.writeString(dir.resolve("nf_conntrack_udp_timeout_stream"), "432000\n");
        assertEquals(List.of(432000L, -1L), List.of(new ConntrackTimeouts(dir).seconds(io.natgw.conf.Protocol.UDP),
                new ConntrackTimeouts(dir).seconds(io.natgw.conf.Protocol.TCP)));
    }
}
