package io.natgw.core;

import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import io.natgw.conf.Protocol;
import io.natgw.conf.StaticMapping;
import io.natgw.core.MappingRequest.OnConflict;
import io.natgw.core.Outcome.Reason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static io.natgw.core.MappingTableTest.granted;
import static io.natgw.core.MappingTableTest.refused;
import static io.natgw.core.TestConfigs.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 10: the gateway never maps to itself, every origin maps only into network.lan.clients, lifetimes are never
 * negative, and a LAN host spoofing many source addresses is bounded by the subnet quota.
 */
class GatewayRulesTest {

    static final InetAddress LAN = ip("127.0.0.1");
    final TestClock clock = new TestClock(Instant.parse("2026-11-21T06:00:00Z"));
    MappingTable table;

    MappingTable open(NatgwConfig cfg) throws IOException {
        table = new MappingTable(cfg, new InMemoryLeaseStore(), Forwarder.NONE, clock);
        table.start();
        return table;
    }

    @AfterEach
    void close() throws IOException {
        if (table != null) {
            table.close();
        }
    }

    static MappingRequest.Map map(Owner who, Protocol p, String address, int port, int external) {
        Kind kind = who.origin() == Origin.ADMIN ? Kind.STATIC : Kind.DYNAMIC;
        return new MappingRequest.Map(who, p, new Endpoint(ip(address), port), external, RemoteFilter.ANY,
                Duration.ofHours(1), kind, "", "", who.origin() == Origin.UPNP || kind == Kind.STATIC ? OnConflict.FAIL
                : OnConflict.ALTERNATIVE, true, false);
    }

    static String refusal(Outcome o, Reason expected) {
        assertEquals(expected, refused(o), o::toString);
        return ((Outcome.Refused) o).detail();
    }

    @Test
    void noOriginMapsToTheGatewaysOwnSocketsInTheSandbox() throws IOException {
        open(TestConfigs.base());
        Owner upnp = Owner.of(LAN, Origin.UPNP);
        Owner pmp = Owner.of(LAN, Origin.NATPMP);
        Owner pcp = Owner.of(LAN, Origin.PCP);
        Owner admin = Owner.of(LAN, Origin.ADMIN);
        assertTrue(refusal(table.apply(map(upnp, Protocol.TCP, "127.0.0.1", 5000, 6000)), Reason.NOT_AUTHORIZED)
                .contains("127.0.0.1:5000 is the gateway's own UPnP HTTP service"));
        assertTrue(refusal(table.apply(map(pmp, Protocol.UDP, "127.0.0.1", 5351, 6001)), Reason.NOT_AUTHORIZED)
                .contains("NAT-PMP/PCP service"));
        assertTrue(refusal(table.apply(map(pcp, Protocol.UDP, "127.0.0.1", 1900, 6002)), Reason.NOT_AUTHORIZED)
                .contains("SSDP service"));
        assertTrue(refusal(table.apply(map(admin, Protocol.TCP, "127.0.0.1", 8443, 6003)), Reason.NOT_AUTHORIZED)
                .contains("admin service"));
        // no loops: nothing maps onto the external address, whatever the port
        assertTrue(refusal(table.apply(map(admin, Protocol.TCP, "127.0.1.1", 6004, 6004)), Reason.NOT_AUTHORIZED)
                .contains("would loop"));
        assertInstanceOf(Outcome.Done.class, table.apply(new MappingRequest.SetExternalAddress(admin, ip("127.0.0.77"))));
        assertTrue(refusal(table.apply(map(admin, Protocol.TCP, "127.0.0.77", 80, 6005)), Reason.NOT_AUTHORIZED)
                .contains("127.0.0.77:80 is on the gateway's external address"), "the address in use now counts");
        // the sandbox keeps working: 127.0.0.1 services on other ports, the other protocol on a service port
        granted(table.apply(map(upnp, Protocol.TCP, "127.0.0.1", 5001, 6010)));
        granted(table.apply(map(pmp, Protocol.TCP, "127.0.0.1", 5351, 6011)));
        granted(table.apply(map(admin, Protocol.TCP, "127.0.0.1", 8080, 6012)));
        assertEquals(3, table.view().size());
    }

    @Test
    void aStaticMappingFromTheConfigurationToItselfIsNotApplied() throws IOException {
        NatgwConfig base = TestConfigs.base();
        open(TestConfigs.with(true, 64, 65536, base.permissions(), List.of(
                new StaticMapping(Protocol.TCP, 8000, LAN, 8443, "admin to the WAN", true),
                new StaticMapping(Protocol.TCP, 8001, ip("10.9.9.9"), 80, "outside the LAN", true),
                new StaticMapping(Protocol.TCP, 8002, LAN, 8002, "fine", true)), List.of()));
        assertEquals(List.of(8002), table.view().mappings().stream().map(Mapping::externalPort).toList());
    }

    @Test
    void onARouterNothingMapsToTheGatewaysOwnAddresses() throws IOException {
        open(router(256, 24));
        Owner admin = Owner.of(ip("192.168.77.10"), Origin.ADMIN);
        Owner host = Owner.of(ip("192.168.77.1"), Origin.NATPMP); // spoofed from the gateway's own LAN address
        assertTrue(refusal(table.apply(map(admin, Protocol.TCP, "192.168.77.1", 22, 2222)), Reason.NOT_AUTHORIZED)
                .contains("one of the gateway's own addresses"));
        assertTrue(refusal(table.apply(map(host, Protocol.TCP, "192.168.77.1", 7000, 7000)), Reason.NOT_AUTHORIZED)
                .contains("one of the gateway's own addresses"));
        assertTrue(refusal(table.apply(map(admin, Protocol.TCP, "203.0.113.1", 22, 2223)), Reason.NOT_AUTHORIZED)
                .contains("would loop"));
        granted(table.apply(map(admin, Protocol.TCP, "192.168.77.10", 22, 2224)));
    }

    @Test
    void everyOriginAdminIncludedMapsOnlyIntoTheLanClients() throws IOException {
        open(TestConfigs.base());
        Owner admin = Owner.of(LAN, Origin.ADMIN);
        // `natgw map add udp 8081 10.9.9.9:80` was accepted: a relay to any host
        assertTrue(refusal(table.apply(map(admin, Protocol.UDP, "10.9.9.9", 80, 8081)), Reason.NOT_AUTHORIZED)
                .contains("10.9.9.9 is not a LAN client (accepted: an address inside network.lan.clients [127.0.0.0/24])"));
        Owner insecure = Owner.of(LAN, Origin.UPNP);
        open2(TestConfigs.with(false, 64, 65536, TestConfigs.base().permissions(), List.of(), List.of()));
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(map(insecure, Protocol.TCP, "10.9.9.9", 8080, 8082))),
                "secure mode off still maps only into the LAN");
        granted(table.apply(map(insecure, Protocol.TCP, "127.0.0.9", 8080, 8083)));
    }

    private void open2(NatgwConfig cfg) throws IOException {
        table.close();
        open(cfg);
    }

    @Test
    void negativeLifetimesAreRefused() throws IOException {
        open(TestConfigs.base());
        Owner upnp = Owner.of(LAN, Origin.UPNP);
        MappingRequest.Map minusOne = new MappingRequest.Map(upnp, Protocol.TCP, new Endpoint(LAN, 6100), 6100,
                RemoteFilter.ANY, Duration.ofSeconds(-1), Kind.DYNAMIC, "", "", OnConflict.FAIL, true, false);
        assertEquals("lifetime -1 s is negative (accepted: 0 or more)", refusal(table.apply(minusOne), Reason.INVALID));
        MappingRequest.Map pcp = MappingRequest.Map.dynamic(Owner.of(LAN, Origin.PCP), Protocol.UDP, new Endpoint(LAN, 6101),
                6101, Duration.ofSeconds(-5));
        assertEquals(Reason.INVALID, refused(table.apply(pcp)));
        assertEquals(0, table.view().size());
    }

    @Test
    void twentyThousandSpoofedSourceAddressesAreBoundedByTheSubnetQuota() throws IOException {
        open(router(256, 16));
        List<CompletableFuture<Outcome>> pending = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            InetAddress spoofed = ip("10.1." + (i / 250) + "." + (1 + i % 250));
            pending.add(table.submit(MappingRequest.Map.dynamic(Owner.of(spoofed, Origin.PCP), Protocol.UDP,
                    new Endpoint(spoofed, 4000), 0, Duration.ofHours(1))));
        }
        int granted = 0;
        int quota = 0;
        for (CompletableFuture<Outcome> f : pending) {
            Outcome o = f.join();
            if (o instanceof Outcome.Granted) {
                granted++;
            } else if (o instanceof Outcome.Refused r && r.reason() == Reason.QUOTA_EXCEEDED) {
                quota++;
            }
        }
        assertEquals(256, granted, "one /16's quota");
        assertEquals(20_000 - 256, quota);
        assertEquals(256, table.view().size());
        Outcome other = table.apply(MappingRequest.Map.dynamic(Owner.of(ip("10.2.0.5"), Origin.PCP), Protocol.UDP,
                new Endpoint(ip("10.2.0.5"), 4000), 0, Duration.ofHours(1)));
        granted(other); // another subnet's host is still served
        Outcome refused = table.submit(MappingRequest.Map.dynamic(Owner.of(ip("10.1.200.1"), Origin.PCP), Protocol.UDP,
                new Endpoint(ip("10.1.200.1"), 4001), 0, Duration.ofHours(1))).join();
        assertEquals("client subnet 10.1.0.0/16 holds its quota of 256 mappings (limits.perSubnetQuota)",
                refusal(refused, Reason.QUOTA_EXCEEDED));
        // a delete frees the subnet's quota again
        Mapping one = table.view().mappings().stream().filter(m -> m.owner().address().getHostAddress().startsWith("10.1."))
                .findFirst().orElseThrow();
        assertInstanceOf(Outcome.Deleted.class, table.apply(new MappingRequest.Delete(one.owner(), one.key())));
        granted(table.apply(MappingRequest.Map.dynamic(Owner.of(ip("10.1.200.1"), Origin.PCP), Protocol.UDP,
                new Endpoint(ip("10.1.200.1"), 4001), 0, Duration.ofHours(1))));
    }

    /** A router: LAN 192.168.77.1 and clients 192.168.77.0/24 and 10.0.0.0/8, WAN 203.0.113.1. */
    static NatgwConfig router(int perSubnet, int prefix) {
        NatgwConfig b = TestConfigs.base();
        return new NatgwConfig(b.source(),
                new NatgwConfig.Network(List.of(ip("192.168.77.1")), List.of(Cidr.parse("192.168.77.0/24"), Cidr.parse("10.0.0.0/8")),
                        List.of(), ip("203.0.113.1"), false, ""),
                b.dataDir(), b.pcp(), b.upnp(), new NatgwConfig.Admin(true, List.of(ip("192.168.77.1")), 8443, false),
                new NatgwConfig.Limits(true, 64, 65536, perSubnet, prefix, 64), b.permissions(), List.of(), List.of(),
                b.dataplane());
    }
}
