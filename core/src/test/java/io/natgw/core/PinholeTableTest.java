package io.natgw.core;

import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import io.natgw.conf.PermissionRule;
import io.natgw.conf.Protocol;
import io.natgw.core.MappingRequest.OnConflict;
import io.natgw.core.Outcome.Reason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.natgw.core.TestConfigs.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 14 point 1: IPv6 pinholes in the one table, under the same rules as mappings. */
class PinholeTableTest {

    static final Inet6Address H10 = v6("fd00:77::10");
    static final Inet6Address H11 = v6("fd00:77::11");
    static final Owner H10_PCP = Owner.of(H10, Origin.PCP);
    static final Owner H10_UPNP = Owner.of(H10, Origin.UPNP);
    static final Owner H11_UPNP = Owner.of(H11, Origin.UPNP);
    static final Owner ADMIN = Owner.of(ip("127.0.0.1"), Origin.ADMIN);
    static final Duration HOUR = Duration.ofSeconds(3600);

    final TestClock clock = new TestClock(Instant.parse("2026-12-06T22:00:00Z"));
    final InMemoryLeaseStore store = new InMemoryLeaseStore();
    final RecordingForwarder forwarder = new RecordingForwarder();
    final List<Change> seen = new CopyOnWriteArrayList<>();
    MappingTable table;

    PinholeTableTest() {
        forwarder.pinholes = true;
    }

    MappingTable open(NatgwConfig cfg, Forwarder f) throws IOException {
        table = new MappingTable(cfg, store, f, clock);
        table.addListener(seen::addAll);
        table.addListener(forwarder);
        table.start();
        return table;
    }

    MappingTable open() throws IOException {
        return open(config(true, List.of()), forwarder);
    }

    static NatgwConfig config(boolean secure, List<PermissionRule> rules) {
        return TestConfigs.v6(secure, 64, 1024, 65536 * 2, rules, List.of(), List.of());
    }

    @AfterEach
    void close() throws IOException {
        if (table != null) {
            table.close();
        }
    }

    static Inet6Address v6(String literal) {
        return (Inet6Address) ip(literal);
    }

    /** A pinhole request as IGD:2 AddPinhole sends it: the owner's own address, a port, a lease. */
    static MappingRequest.Map pinhole(Owner o, InetAddress host, int port) {
        return new MappingRequest.Map(o, Protocol.TCP, new Endpoint(host, port), 0, RemoteFilter.ANY, HOUR, Kind.DYNAMIC,
                "", "", OnConflict.FAIL, true, false);
    }

    static MappingRequest.Map pinhole(Owner o, int port) {
        return pinhole(o, o.address(), port);
    }

    static Mapping granted(Outcome o) {
        return assertInstanceOf(Outcome.Granted.class, o, () -> "expected a grant, got " + o).mapping();
    }

    static Reason refused(Outcome o) {
        return assertInstanceOf(Outcome.Refused.class, o, () -> "expected a refusal, got " + o).reason();
    }

    /** What a refused request must leave as it was: rows, journal, dataplane, events. */
    record Traces(List<Mapping> rows, List<Mapping> journal, Object routes, int events) {
    }

    Traces traces() {
        return new Traces(table.view().mappings(), store.rows(), forwarder.routes(), seen.size());
    }

    @Test
    void aMapToAnIpv6HostIsAPinholeOnItsOwnPortWithAnId() throws IOException {
        open();
        MappingRequest.Map asked = new MappingRequest.Map(H10_PCP, Protocol.UDP, new Endpoint(H10, 4242), 9999,
                RemoteFilter.ANY, HOUR, Kind.DYNAMIC, "game", "00112233445566778899aabb", OnConflict.ALTERNATIVE, true, false);
        Mapping p = granted(table.apply(asked));
        assertTrue(p.pinhole());
        assertEquals(4242, p.externalPort(), "no translation: the requested external port is ignored");
        assertTrue(p.pinholeId() >= 1 && p.pinholeId() <= 65535, "id " + p.pinholeId());
        assertEquals(MappingKey.pinhole(Protocol.UDP, H10, 4242, RemoteFilter.ANY), p.key());
        assertEquals(H10, p.key().host());
        assertEquals(clock.instant().plus(HOUR), p.expiresAt());
        TableView v = table.view();
        assertEquals(List.of(p), v.pinholes());
        assertEquals(List.of(), v.portMappings(), "a pinhole is no port mapping on the WAN address");
        assertEquals(java.util.Optional.empty(), v.get(0), "index walks (GetGenericPortMappingEntry) see no pinhole");
        assertEquals(java.util.Optional.of(p), v.pinhole(p.pinholeId()));
        assertEquals(java.util.Optional.of(p), v.find(p.key()));
        assertEquals(java.util.Optional.empty(), v.pinhole(p.pinholeId() + 1));
        assertEquals(List.of(p), store.rows(), "journaled");
        assertEquals(p, forwarder.routes().get(p.key()), "forwarded");
    }

    @Test
    void aRefreshBySameOwnerKeepsTheIdAndExtendsTheLease() throws IOException {
        open();
        Mapping first = granted(table.apply(pinhole(H10_UPNP, 6000)));
        clock.advance(Duration.ofSeconds(600));
        Outcome again = table.apply(pinhole(H10_UPNP, 6000).withDescription("renewed"));
        Mapping second = granted(again);
        assertTrue(((Outcome.Granted) again).refreshed());
        assertEquals(first.pinholeId(), second.pinholeId());
        assertEquals(clock.instant().plus(HOUR), second.expiresAt());
        assertEquals("renewed", second.description());
        assertEquals(1, table.view().size());

        // PCP identifies by internal endpoint: the same MAP again refreshes, whatever external port it suggests
        Mapping pcp = granted(table.apply(MappingRequest.Map.dynamic(H10_PCP, Protocol.UDP, new Endpoint(H10, 7000), 0, HOUR)));
        Outcome renewed = table.apply(MappingRequest.Map.dynamic(H10_PCP, Protocol.UDP, new Endpoint(H10, 7000), 1234, HOUR));
        assertTrue(((Outcome.Granted) renewed).refreshed());
        assertEquals(pcp.pinholeId(), granted(renewed).pinholeId());
    }

    @Test
    void pinholesGetDistinctIdsAndLiveBesideMappingsOfTheSamePortNumber() throws IOException {
        open();
        Mapping nat = granted(table.apply(MappingRequest.Map.dynamic(Owner.of(ip("127.0.0.1"), Origin.UPNP), Protocol.TCP,
                new Endpoint(ip("127.0.0.1"), 6000), 6000, HOUR).withOnConflict(OnConflict.FAIL)));
        Mapping a = granted(table.apply(pinhole(H10_UPNP, 6000)));
        Mapping b = granted(table.apply(pinhole(H11_UPNP, 6000)));
        assertEquals(6000, nat.externalPort());
        assertNotEquals(a.pinholeId(), b.pinholeId());
        TableView v = table.view();
        assertEquals(List.of(nat, a, b), v.mappings(), "NAT mappings first, then pinholes");
        assertEquals(List.of(nat), v.range(Protocol.TCP, 1, 65535, 100));
        assertEquals(java.util.Optional.of(nat), v.lookup(Protocol.TCP, 6000, ip("203.0.113.5"), 1));
        assertEquals(java.util.Optional.of(nat), v.get(0));
        assertEquals(java.util.Optional.empty(), v.get(1));
        assertEquals(3, table.size(), "every row");
        assertEquals(1, table.portMappingCount(), "port mappings only (UPnP's PortMappingNumberOfEntries), no view built");
        // a NAT mapping on the WAN port 6001 still finds port 6001 free of pinholes: separate spaces
        granted(table.apply(pinhole(H10_UPNP, 6001)));
        assertEquals(6001, granted(table.apply(MappingRequest.Map.dynamic(Owner.of(ip("127.0.0.1"), Origin.NATPMP),
                Protocol.TCP, new Endpoint(ip("127.0.0.1"), 6001), 6001, HOUR))).externalPort());
    }

    @Test
    void anotherOwnersPinholeIsAConflictWhateverOnConflictSaysAndChangesNothing() throws IOException {
        open(config(false, List.of()), forwarder); // secure mode off: any client may ask for any LAN host
        granted(table.apply(pinhole(H10_UPNP, 6000)));
        Traces before = traces();
        assertEquals(Reason.CONFLICT, refused(table.apply(pinhole(H11_UPNP, H10, 6000))));
        assertEquals(Reason.CONFLICT, refused(table.apply(pinhole(H11_UPNP, H10, 6000).withOnConflict(OnConflict.ALTERNATIVE))));
        // the same host through another front-end is another owner: first client wins
        assertEquals(Reason.CONFLICT, refused(table.apply(pinhole(H10_PCP, 6000))));
        // an overlapping filter conflicts too; a disjoint one does not
        assertEquals(Reason.CONFLICT, refused(table.apply(pinhole(H11_UPNP, H10, 6000)
                .withRemote(RemoteFilter.host(ip("2001:db8:113::2"))))));
        assertEquals(before, traces());
        granted(table.apply(pinhole(H10_UPNP, 6000).withRemote(RemoteFilter.host(ip("2001:db8:113::2")))));
    }

    @Test
    void aForwarderWithoutPinholesRefusesThemWithNoSideEffect() throws IOException {
        RecordingForwarder relays = new RecordingForwarder(); // forwardsPinholes() false, like the Netty relays
        open(config(true, List.of()), relays);
        Traces before = traces();
        Outcome o = table.apply(pinhole(H10_UPNP, 6000));
        assertEquals(Reason.PINHOLES_DISABLED, refused(o));
        assertTrue(((Outcome.Refused) o).detail().contains("linux-gateway"), ((Outcome.Refused) o).detail());
        assertEquals(Reason.PINHOLES_DISABLED, refused(table.apply(pinhole(ADMIN, H10, 6000))), "admins too");
        assertEquals(before, traces());
        assertTrue(relays.routes().isEmpty());
        // and IPv4 mappings go on as before
        granted(table.apply(MappingRequest.Map.dynamic(Owner.of(ip("127.0.0.1"), Origin.PCP), Protocol.TCP,
                new Endpoint(ip("127.0.0.1"), 6000), 0, HOUR)));
    }

    @Test
    void theDefaultForwarderForwardsNoPinholes() {
        assertFalse(Forwarder.NONE.forwardsPinholes());
    }

    @Test
    void onlyTheOwnerOrAnAdminDeletesAPinhole() throws IOException {
        open();
        Mapping p = granted(table.apply(pinhole(H10_UPNP, 6000)));
        Traces before = traces();
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(new MappingRequest.Delete(H11_UPNP, p.key()))));
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(new MappingRequest.Delete(H10_PCP, p.key()))));
        assertEquals(before, traces());
        assertEquals(new Outcome.Deleted(List.of(p)), table.apply(new MappingRequest.Delete(H10_UPNP, p.key())));
        assertEquals(Reason.NOT_FOUND, refused(table.apply(new MappingRequest.Delete(H10_UPNP, p.key()))));
        assertEquals(java.util.Optional.empty(), table.view().pinhole(p.pinholeId()));
        assertTrue(store.rows().isEmpty());
        assertTrue(forwarder.routes().isEmpty());

        Mapping q = granted(table.apply(pinhole(H10_UPNP, 6001)));
        assertNotEquals(p.pinholeId(), q.pinholeId(), "a deleted pinhole's id is not handed out again at once");
        assertEquals(new Outcome.Deleted(List.of(q)), table.apply(new MappingRequest.Delete(ADMIN, q.key())));
    }

    @Test
    void badInternalAddressesAndPortsAreRefusedEachWithItsReasonAndNoSideEffect() throws IOException {
        open(config(false, List.of()), forwarder);
        Traces before = traces();
        assertEquals(Reason.INTERNAL_PORT_WILDCARD, refused(table.apply(pinhole(H10_UPNP, 0))));
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = 127;
        mapped[15] = 1;
        for (InetAddress bad : List.of(inet6(mapped), ip("fe80::10"), ip("ff02::1"), ip("::"), ip("::1"))) {
            assertEquals(Reason.BAD_INTERNAL_ADDRESS, refused(table.apply(pinhole(H10_UPNP, bad, 6000))),
                    bad.getHostAddress());
            assertEquals(Reason.BAD_INTERNAL_ADDRESS, refused(table.apply(pinhole(ADMIN, bad, 6000))),
                    "admins too: " + bad.getHostAddress());
        }
        assertEquals(before, traces());
    }

    static Inet6Address inet6(byte[] bytes) {
        try {
            return Inet6Address.getByAddress(null, bytes, -1);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Test
    void aPinholeRowNeedsAnIdAndItsInternalPortAndANatRowHasNone() {
        Instant t = Instant.EPOCH;
        Owner o = H10_UPNP;
        assertThrows(IllegalArgumentException.class, () -> new Mapping(Protocol.TCP, 6000, RemoteFilter.ANY,
                new Endpoint(H10, 6000), o, "", Kind.DYNAMIC, "", t, t, true), "a pinhole without an id");
        assertThrows(IllegalArgumentException.class, () -> new Mapping(Protocol.TCP, 6001, RemoteFilter.ANY,
                new Endpoint(H10, 6000), o, "", Kind.DYNAMIC, "", t, t, true, 1), "a translated pinhole");
        assertThrows(IllegalArgumentException.class, () -> new Mapping(Protocol.TCP, 6000, RemoteFilter.ANY,
                new Endpoint(H10, 6000), o, "", Kind.DYNAMIC, "", t, t, true, 65536), "id beyond 65535");
        assertThrows(IllegalArgumentException.class, () -> new Mapping(Protocol.TCP, 6000, RemoteFilter.ANY,
                new Endpoint(ip("127.0.0.1"), 6000), o, "", Kind.DYNAMIC, "", t, t, true, 3), "an id on a NAT row");
        Mapping p = new Mapping(Protocol.TCP, 6000, RemoteFilter.ANY, new Endpoint(H10, 6000), o, "", Kind.DYNAMIC, "",
                t, t, true, 7);
        assertEquals(7, p.withExpiry(t.plusSeconds(1)).pinholeId());
        assertThrows(IllegalArgumentException.class, () -> new MappingKey(Protocol.TCP, 1, RemoteFilter.ANY, ip("127.0.0.1")));
        assertEquals(new MappingKey(Protocol.TCP, 1, RemoteFilter.ANY), new MappingKey(Protocol.TCP, 1, RemoteFilter.ANY, null));
        assertTrue(MappingKey.of(Protocol.UDP, 65535).compareTo(MappingKey.pinhole(Protocol.TCP, H10, 1, RemoteFilter.ANY)) < 0,
                "NAT mappings list before pinholes");
    }

    // ---- the same rules as mappings ----

    @Test
    void secureModeOpensPinholesOnlyToTheClientsOwnAddressAndSpoofedThirdPartiesAreRefused() throws IOException {
        InetAddress authorized = ip("fd00:77::99");
        open(TestConfigs.v6(true, 64, 1024, 1000, List.of(), List.of(), List.of(Cidr.parse("fd00:77::99/128"))), forwarder);
        Traces before = traces();
        // a client asking for its neighbour, plainly or as PCP THIRD_PARTY: refused, nothing changed
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(pinhole(H11_UPNP, H10, 6000))));
        MappingRequest.Map thirdParty = new MappingRequest.Map(Owner.of(H11, Origin.PCP), Protocol.TCP,
                new Endpoint(H10, 6000), 0, RemoteFilter.ANY, HOUR, Kind.DYNAMIC, "", "00112233445566778899aabb",
                OnConflict.ALTERNATIVE, true, true);
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(thirdParty)));
        // an IPv4 client cannot open a pinhole to an IPv6 host either
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(pinhole(Owner.of(ip("127.0.0.1"), Origin.PCP), H10, 6000))));
        // a host outside network.lan.clients is no LAN host, whoever asks
        Inet6Address outside = v6("2001:db8:113::2");
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(pinhole(Owner.of(outside, Origin.UPNP), 6000))));
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(pinhole(ADMIN, outside, 6000))));
        assertEquals(before, traces());

        assertEquals(H10, granted(table.apply(pinhole(H10_UPNP, 6000))).internal().address(), "its own address");
        assertEquals(H11, granted(table.apply(pinhole(Owner.of(authorized, Origin.PCP), H11, 6001))).internal().address(),
                "a configured third-party client (pcp.thirdPartyClients)");
        assertEquals(H11, granted(table.apply(pinhole(ADMIN, H11, 6002))).internal().address(), "an admin");
    }

    @Test
    void quotaExhaustionByOneIpv6SubnetLeavesAnotherAnswered() throws IOException {
        // per client 2, per /64 (limits.subnetPrefixLengthV6) 4
        open(TestConfigs.v6(true, 2, 4, 1000, List.of(), List.of(), List.of()), forwarder);
        int granted = 0;
        for (int host = 1; host <= 10; host++) {
            Owner o = Owner.of(ip("fd00:77:0:1::" + host), Origin.UPNP);
            for (int port = 6000; port < 6003; port++) {
                Outcome out = table.apply(pinhole(o, port));
                if (out instanceof Outcome.Granted) {
                    granted++;
                } else {
                    assertEquals(Reason.QUOTA_EXCEEDED, refused(out));
                }
            }
        }
        assertEquals(4, granted, "fd00:77:0:1::/64 holds its 4");
        Traces before = traces();
        Outcome one = table.apply(pinhole(Owner.of(ip("fd00:77:0:1::ff"), Origin.PCP), 7000));
        assertEquals(Reason.QUOTA_EXCEEDED, refused(one));
        assertTrue(((Outcome.Refused) one).detail().contains("fd00:77:0:1:0:0:0:0/64"), ((Outcome.Refused) one).detail());
        assertEquals(before, traces());
        // another /64 is answered, and a refresh inside the full one still is
        granted(table.apply(pinhole(Owner.of(ip("fd00:77:0:2::1"), Origin.UPNP), 6000)));
        assertTrue(((Outcome.Granted) table.apply(pinhole(Owner.of(ip("fd00:77:0:1::1"), Origin.UPNP), 6000))).refreshed());
        // IPv4 clients count per /24 apart from the IPv6 ones
        granted(table.apply(MappingRequest.Map.dynamic(Owner.of(ip("127.0.0.1"), Origin.PCP), Protocol.TCP,
                new Endpoint(ip("127.0.0.1"), 6000), 0, HOUR)));
    }

    @Test
    void pinholesCountAgainstMaxMappings() throws IOException {
        open(TestConfigs.v6(true, 64, 1024, 3, List.of(), List.of(), List.of()), forwarder);
        granted(table.apply(MappingRequest.Map.dynamic(Owner.of(ip("127.0.0.1"), Origin.PCP), Protocol.TCP,
                new Endpoint(ip("127.0.0.1"), 6000), 0, HOUR)));
        granted(table.apply(pinhole(H10_UPNP, 6000)));
        granted(table.apply(pinhole(H11_UPNP, 6000)));
        Traces before = traces();
        assertEquals(Reason.NO_RESOURCES, refused(table.apply(pinhole(H10_UPNP, 6001))));
        assertEquals(before, traces());
    }

    @Test
    void permissionRulesMatchIpv6Cidrs() throws IOException {
        open(config(true, List.of(
                PermissionRule.parse("deny 0-65535 fd00:77::11/128 0-65535"),
                PermissionRule.parse("allow 1024-65535 fd00:77::/64 1024-65535"),
                PermissionRule.parse("allow 1024-65535 0.0.0.0/0 1024-65535"),
                PermissionRule.parse("deny 0-65535 ::/0 0-65535"))), forwarder);
        Traces before = traces();
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(pinhole(H10_UPNP, 80))), "below 1024");
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(pinhole(H11_UPNP, 8080))), "the denied host");
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(pinhole(Owner.of(ip("fd00:77:0:9::1"), Origin.UPNP), 8080))),
                "outside the allowed /64: the last rule");
        assertEquals(before, traces());
        granted(table.apply(pinhole(H10_UPNP, 8080)));
        granted(table.apply(pinhole(ADMIN, H11, 80))); // admins are exempt, as for mappings
    }

    @Test
    void pinholeLifetimesAreClampedAndExpireThroughTheSamePathAsADelete() throws IOException {
        open();
        MappingRequest.Map shortLived = MappingRequest.Map.dynamic(H10_PCP, Protocol.UDP, new Endpoint(H10, 5000), 0,
                Duration.ofSeconds(5));
        Mapping p = granted(table.apply(shortLived));
        assertEquals(clock.instant().plusSeconds(120), p.expiresAt(), "pcp.lifetimes min 120 s");
        Mapping q = granted(table.apply(MappingRequest.Map.dynamic(H10_PCP, Protocol.UDP, new Endpoint(H10, 5001), 0,
                Duration.ofDays(30))));
        assertEquals(clock.instant().plusSeconds(86400), q.expiresAt(), "pcp.lifetimes max 86400 s");
        clock.advance(Duration.ofSeconds(120));
        assertEquals(1, table.expireDue().join());
        assertEquals(List.of(q), table.view().mappings());
        assertEquals(java.util.Optional.empty(), table.view().pinhole(p.pinholeId()));
        assertEquals(List.of(q), store.rows());
        assertEquals(Change.removed(p, Change.Cause.EXPIRED), seen.get(seen.size() - 1));
        assertFalse(forwarder.routes().containsKey(p.key()));
    }

    @Test
    void pcpLifetimeZeroDeletesItsPinholeAndUpnpRangeDeletesLeaveThemAlone() throws IOException {
        open();
        Mapping nat = granted(table.apply(MappingRequest.Map.dynamic(Owner.of(ip("127.0.0.1"), Origin.UPNP), Protocol.TCP,
                new Endpoint(ip("127.0.0.1"), 6000), 6000, HOUR).withOnConflict(OnConflict.FAIL)));
        Mapping upnpPinhole = granted(table.apply(pinhole(H10_UPNP, 6000)));
        assertEquals(new Outcome.Deleted(List.of()), table.apply(new MappingRequest.DeleteRange(H10_UPNP, null, 1, 65535)),
                "DeletePortMappingRange is about WAN ports: no pinhole goes");
        Mapping pcp = granted(table.apply(MappingRequest.Map.dynamic(H10_PCP, Protocol.UDP, new Endpoint(H10, 7000), 0, HOUR)
                .withNonce("00112233445566778899aabb")));
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(new MappingRequest.DeleteInternal(H10_PCP, Protocol.UDP, H10,
                7000, "ffffffffffffffffffffffff"))), "RFC 6887 §15: another nonce");
        assertEquals(new Outcome.Deleted(List.of(pcp)), table.apply(new MappingRequest.DeleteInternal(H10_PCP, Protocol.UDP,
                H10, 7000, "00112233445566778899aabb")));
        assertEquals(List.of(nat, upnpPinhole), table.view().mappings());
        assertEquals(new Outcome.Deleted(List.of(upnpPinhole)), table.apply(new MappingRequest.DeleteMatching(ADMIN,
                "pinholes", Mapping::pinhole)));
    }

    @Test
    void aReloadRemovesThePinholesTheNewRulesRefuse() throws IOException {
        open(config(false, List.of()), forwarder);
        Mapping own = granted(table.apply(pinhole(H10_UPNP, 6000)));
        Mapping forNeighbour = granted(table.apply(pinhole(H11_UPNP, H10, 6001)));
        Mapping low = granted(table.apply(pinhole(H11_UPNP, 8080)));
        MappingTable.Reconciled r = table.reconfigure(config(true, List.of(
                PermissionRule.parse("deny 0-65535 fd00:77::11/128 8000-8999"))));
        assertEquals(2, r.leasesRefused());
        assertEquals(List.of(own), table.view().mappings());
        assertEquals(List.of(own), store.rows());
        assertFalse(forwarder.routes().containsKey(forNeighbour.key()));
        assertFalse(forwarder.routes().containsKey(low.key()));
    }

    @Test
    void pinholesSurviveARestartWithTheirIdsAndAreDroppedWhereNothingForwardsThem() throws IOException {
        open();
        Mapping p = granted(table.apply(pinhole(H10_UPNP, 6000)));
        Mapping q = granted(table.apply(pinhole(H11_UPNP, 6000)));
        table.close();

        open();
        assertEquals(List.of(p, q), table.view().mappings());
        assertEquals(java.util.Optional.of(q), table.view().pinhole(q.pinholeId()));
        Mapping r = granted(table.apply(pinhole(H10_UPNP, 6001)));
        assertTrue(r.pinholeId() != p.pinholeId() && r.pinholeId() != q.pinholeId(), "ids stay unique after a restart");
        table.close();

        open(config(true, List.of()), new RecordingForwarder()); // relays: pinholes are not forwarded
        assertEquals(List.of(), table.view().mappings(), "no pinhole listed that forwards nothing");
        assertEquals(List.of(), store.rows(), "and the journal says so");
    }

    @Test
    void exhaustingThe65535PinholeIdsIsRefusedWithNoSideEffect() throws IOException {
        open();
        List<java.util.concurrent.CompletableFuture<Outcome>> all = new java.util.ArrayList<>();
        for (int port = 1; port <= Mapping.MAX_PINHOLE_ID; port++) {
            all.add(table.submit(pinhole(ADMIN, H10, port)));
        }
        java.util.Set<Integer> ids = new java.util.HashSet<>();
        for (var f : all) {
            ids.add(granted(f.join()).pinholeId());
        }
        assertEquals(Mapping.MAX_PINHOLE_ID, ids.size(), "every id once");
        int before = store.rows().size();
        int events = seen.size();
        Outcome o = table.apply(pinhole(ADMIN, H11, 6000));
        assertEquals(Reason.NO_RESOURCES, refused(o));
        assertTrue(((Outcome.Refused) o).detail().contains("65535 pinhole ids"), ((Outcome.Refused) o).detail());
        assertEquals(Mapping.MAX_PINHOLE_ID, table.view().size());
        assertEquals(before, store.rows().size());
        assertEquals(events, seen.size());
        assertFalse(forwarder.routes().containsKey(MappingKey.pinhole(Protocol.TCP, H11, 6000, RemoteFilter.ANY)));
        // one freed id is handed out again
        Mapping gone = table.view().pinholes().get(0);
        table.apply(new MappingRequest.Delete(ADMIN, gone.key()));
        assertEquals(gone.pinholeId(), granted(table.apply(pinhole(ADMIN, H11, 6000))).pinholeId());
    }

    @Test
    void aPinholeNeverOpensToTheGatewaysOwnAddress() throws IOException {
        open(config(false, List.of()), forwarder); // the LAN addresses are 127.0.0.1 and fd00:77::1
        Traces before = traces();
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(pinhole(ADMIN, ip("fd00:77::1"), 6000))));
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(pinhole(Owner.of(ip("fd00:77::1"), Origin.UPNP), 6000))));
        assertEquals(before, traces());
    }

    @Test
    void aStaticMappingToAnIpv6HostIsAStaticPinholeFollowingTheFile() throws IOException {
        io.natgw.conf.StaticMapping https = new io.natgw.conf.StaticMapping(Protocol.TCP, 443, H10, 443, "https", true);
        open(TestConfigs.v6(true, 64, 1024, 1000, List.of(), List.of(https), List.of()), forwarder);
        Mapping p = table.view().pinholes().get(0);
        assertEquals(Kind.STATIC, p.kind());
        assertEquals(MappingKey.pinhole(Protocol.TCP, H10, 443, RemoteFilter.ANY), p.key());
        assertEquals(MappingTable.CONFIG_OWNER, p.owner());
        assertEquals(null, p.expiresAt());
        // a client cannot take it, nor delete it
        assertEquals(Reason.CONFLICT, refused(table.apply(pinhole(H10_UPNP, 443))));
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(new MappingRequest.Delete(H10_UPNP, p.key()))));
        // a reload that keeps it keeps it as it is; one that drops it closes it
        assertEquals(new MappingTable.Reconciled(0, 1, 0, 0), table.reconfigure(TestConfigs.v6(true, 64, 1024, 1000,
                List.of(), List.of(https), List.of())));
        assertEquals(List.of(p), table.view().mappings());
        assertEquals(1, table.reconfigure(TestConfigs.v6(true, 64, 1024, 1000, List.of(), List.of(), List.of()))
                .staleStaticRemoved());
        assertEquals(List.of(), table.view().mappings());
        assertTrue(forwarder.routes().isEmpty());
    }

    @Test
    void aDeletedIdIsNotHandedOutAgainEvenAfterARefreshOfAnOlderOne() throws IOException {
        open();
        Mapping a = granted(table.apply(pinhole(H10_UPNP, 6000)));
        granted(table.apply(pinhole(H10_UPNP, 6001)));
        Mapping c = granted(table.apply(pinhole(H10_UPNP, 6002)));
        table.apply(new MappingRequest.Delete(H10_UPNP, c.key()));
        assertTrue(((Outcome.Granted) table.apply(pinhole(H10_UPNP, 6000))).refreshed());
        Mapping d = granted(table.apply(pinhole(H11_UPNP, 6000)));
        assertNotEquals(c.pinholeId(), d.pinholeId(), "the stale id " + c.pinholeId() + " reaches nothing yet");
        assertTrue(d.pinholeId() > c.pinholeId() && c.pinholeId() > a.pinholeId(), a + " " + c + " " + d);
    }

    @Test
    void aPinholeTheJournalOrTheDataplaneFailsOnLeavesTableJournalAndForwardingAsTheyWere() throws IOException {
        BatchFailureTest.GatedStore gated = new BatchFailureTest.GatedStore(store);
        table = new MappingTable(config(true, List.of()), gated, forwarder, clock);
        table.addListener(seen::addAll);
        table.addListener(forwarder);
        table.start();
        Mapping p = granted(table.apply(pinhole(H10_UPNP, 6000)));
        Traces before = traces();

        gated.fault = changes -> new IOException("No space left on device");
        Outcome o = table.apply(pinhole(H11_UPNP, 6000));
        assertEquals(Reason.UNAVAILABLE, refused(o));
        assertEquals(before, traces());
        assertEquals(java.util.Optional.empty(), table.view().pinhole(p.pinholeId() + 1));

        gated.fault = changes -> null;
        forwarder.fault = c -> c.after() != null && c.after().pinhole()
                ? new Forwarder.ForwardingException("nft: element rejected", null) : null;
        assertEquals(Reason.NO_RESOURCES, refused(table.apply(pinhole(H11_UPNP, 6000))));
        assertEquals(before, traces());

        // a removal while the journal fails takes effect at once (fail closed), and is journaled when it writes again
        forwarder.fault = c -> null;
        gated.fault = changes -> new IOException("No space left on device");
        assertEquals(new Outcome.Deleted(List.of(p)), table.apply(new MappingRequest.Delete(H10_UPNP, p.key())));
        assertEquals(List.of(), table.view().mappings());
        assertTrue(forwarder.routes().isEmpty());
        assertEquals(List.of(p), store.rows(), "not journaled yet");
        gated.fault = changes -> null;
        Mapping q = granted(table.apply(pinhole(H11_UPNP, 6000)));
        assertEquals(List.of(q), store.rows(), "the removal was journaled first");
    }
}
