package io.natgw.core;

import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import io.natgw.conf.PermissionRule;
import io.natgw.conf.Protocol;
import io.natgw.conf.StaticMapping;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.natgw.core.TestConfigs.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** No drift: at start and on reload the table follows the configuration in force, not what the journal kept. */
class ReconciliationTest {

    static final InetAddress A = ip("127.0.0.1");
    static final InetAddress B = ip("127.0.0.2");
    static final List<PermissionRule> OPEN = List.of(PermissionRule.parse("allow 1024-65535 0.0.0.0/0 1024-65535"),
            PermissionRule.parse("deny 0-65535 0.0.0.0/0 0-65535"));

    final TestClock clock = new TestClock(Instant.parse("2026-11-21T06:00:00Z"));
    final InMemoryLeaseStore store = new InMemoryLeaseStore();
    final List<Change> seen = new CopyOnWriteArrayList<>();
    MappingTable table;

    MappingTable open(NatgwConfig cfg) throws IOException {
        if (table != null) {
            table.close();
        }
        seen.clear();
        table = new MappingTable(cfg, store, Forwarder.NONE, clock);
        table.addListener(seen::addAll);
        table.start();
        return table;
    }

    @AfterEach
    void close() throws IOException {
        if (table != null) {
            table.close();
        }
    }

    static StaticMapping web(int port) {
        return new StaticMapping(Protocol.TCP, port, ip("127.0.0.5"), 80, "web", true);
    }

    static NatgwConfig config(boolean secure, int quota, List<PermissionRule> rules, List<StaticMapping> statics) {
        return TestConfigs.with(secure, quota, 65536, rules, statics, List.of());
    }

    private Outcome map(InetAddress client, Origin origin, InetAddress internal, int port) {
        clock.advance(Duration.ofSeconds(1)); // distinct creation times: quotas keep the oldest
        return table.apply(new MappingRequest.Map(Owner.of(client, origin), Protocol.TCP, new Endpoint(internal, port),
                port, RemoteFilter.ANY, Duration.ofSeconds(3600), Kind.DYNAMIC, "", "", MappingRequest.OnConflict.FAIL,
                true, !internal.equals(client)));
    }

    private List<Integer> ports() {
        return table.view().mappings().stream().map(Mapping::externalPort).sorted().toList();
    }

    private List<String> removals() {
        return seen.stream().filter(c -> c.type() == Change.Type.REMOVED)
                .map(c -> c.before().owner().origin().label() + " " + c.before().externalPort()).sorted().toList();
    }

    @Test
    void aStaticMappingDeletedFromTheFileIsRemovedAtStartJournaledAndEvented() throws IOException {
        open(config(true, 64, OPEN, List.of(web(8080), web(8081))));
        map(A, Origin.NATPMP, A, 7000);
        assertEquals(List.of(7000, 8080, 8081), ports());

        open(config(true, 64, OPEN, List.of(web(8080))));
        assertEquals(List.of(7000, 8080), ports());
        assertEquals(List.of("config 8081"), removals(), "evented to the listeners");
        assertEquals(List.of(7000, 8080), store.rows().stream().map(Mapping::externalPort).sorted().toList(), "journaled");
    }

    @Test
    void aStaticMappingChangedInTheFileToATargetTheRulesRefuseForwardsNowhere() throws IOException {
        open(config(true, 64, OPEN, List.of(web(8080))));
        StaticMapping outside = new StaticMapping(Protocol.TCP, 8080, ip("10.1.2.3"), 80, "web", true); // not a LAN client
        MappingTable.Reconciled r = table.reconfigure(config(true, 64, OPEN, List.of(outside)));
        assertEquals(new MappingTable.Reconciled(1, 0, 1, 0), r);
        assertEquals(List.of(), ports(), "the old row does not go on forwarding to 127.0.0.5");
    }

    @Test
    void restoredLeasesAreRecheckedAgainstTheRulesInForceAtStart() throws IOException {
        NatgwConfig open = TestConfigs.with(false, 64, 65536, OPEN, List.of(), List.of(Cidr.parse("127.0.0.9/32")));
        open(open);
        map(A, Origin.NATPMP, A, 7000);          // kept
        map(A, Origin.PCP, A, 2000);             // the new rules deny ports below 3000
        map(B, Origin.UPNP, A, 7001);            // for another host: secure mode will refuse it
        map(B, Origin.NATPMP, B, 7002);          // B's first lease: within a quota of 2
        map(B, Origin.PCP, B, 7003);             // B's second
        map(B, Origin.UPNP, B, 7004);            // B's third: over a quota of 2 (the newest goes)
        map(A, Origin.NATPMP, ip("127.0.1.1"), 7005); // refused already: the gateway's own address
        assertEquals(List.of(2000, 7000, 7001, 7002, 7003, 7004), ports());

        List<PermissionRule> tighter = List.of(PermissionRule.parse("allow 3000-65535 0.0.0.0/0 1024-65535"),
                PermissionRule.parse("deny 0-65535 0.0.0.0/0 0-65535"));
        open(config(true, 2, tighter, List.of()));
        assertEquals(List.of(7000, 7002, 7003), ports());
        assertEquals(List.of("nat-pmp 7000", "nat-pmp 7002", "pcp 7003"), store.rows().stream()
                .map(m -> m.owner().origin().label() + " " + m.externalPort()).sorted().toList(), "journaled");
        assertEquals(List.of("pcp 2000", "upnp 7001", "upnp 7004"), removals());
    }

    @Test
    void aReloadAppliesRulesAndStaticMappingsWithoutTouchingOtherLeases() throws IOException {
        open(config(true, 64, OPEN, List.of(web(8080), web(8081))));
        map(A, Origin.NATPMP, A, 7000);
        map(B, Origin.PCP, B, 2000);
        Mapping kept = table.find(MappingKey.of(Protocol.TCP, 7000)).orElseThrow();
        seen.clear();

        List<PermissionRule> tighter = List.of(PermissionRule.parse("allow 3000-65535 0.0.0.0/0 1024-65535"),
                PermissionRule.parse("deny 0-65535 0.0.0.0/0 0-65535"));
        MappingTable.Reconciled r = table.reconfigure(config(true, 64, tighter, List.of(web(8080), web(8082))));
        assertEquals(new MappingTable.Reconciled(1, 2, 0, 1), r);
        assertEquals(List.of(7000, 8080, 8082), ports());
        assertEquals(kept, table.find(MappingKey.of(Protocol.TCP, 7000)).orElseThrow(), "same port, same expiry");
        assertEquals(List.of("config 8081", "pcp 2000"), removals());
        Outcome later = map(B, Origin.PCP, B, 2001);
        assertEquals(Outcome.Reason.NOT_AUTHORIZED, ((Outcome.Refused) later).reason(), "the new rules apply to requests");
    }
}
