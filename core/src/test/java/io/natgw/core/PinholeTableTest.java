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
}
