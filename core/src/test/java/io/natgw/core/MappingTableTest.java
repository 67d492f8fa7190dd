package io.natgw.core;

import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import io.natgw.conf.PermissionRule;
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
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.natgw.core.TestConfigs.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MappingTableTest {

    static final InetAddress A = ip("127.0.0.1");
    static final InetAddress B = ip("127.0.0.2");
    static final Owner A_PMP = Owner.of(A, Origin.NATPMP);
    static final Owner B_PMP = Owner.of(B, Origin.NATPMP);
    static final Owner A_UPNP = Owner.of(A, Origin.UPNP);
    static final Owner B_UPNP = Owner.of(B, Origin.UPNP);
    static final Owner ADMIN = Owner.of(A, Origin.ADMIN);

    final TestClock clock = new TestClock(Instant.parse("2026-11-21T06:00:00Z"));
    final InMemoryLeaseStore store = new InMemoryLeaseStore();
    final List<Change> seen = new CopyOnWriteArrayList<>();
    MappingTable table;

    MappingTable open(NatgwConfig cfg) throws IOException {
        return open(cfg, store, Forwarder.NONE);
    }

    MappingTable open(NatgwConfig cfg, LeaseStore s, Forwarder f) throws IOException {
        table = new MappingTable(cfg, s, f, clock);
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

    static MappingRequest.Map pmp(Owner o, int ext, int internal) {
        return MappingRequest.Map.dynamic(o, Protocol.TCP, new Endpoint(o.address(), internal), ext, Duration.ofSeconds(3600));
    }

    static MappingRequest.Map upnp(Owner o, int ext, int internal) {
        return MappingRequest.Map.dynamic(o, Protocol.TCP, new Endpoint(o.address(), internal), ext, Duration.ofSeconds(3600))
                .withOnConflict(OnConflict.FAIL);
    }

    static Mapping granted(Outcome o) {
        return assertInstanceOf(Outcome.Granted.class, o, () -> "expected a grant, got " + o).mapping();
    }

    static Reason refused(Outcome o) {
        return assertInstanceOf(Outcome.Refused.class, o, () -> "expected a refusal, got " + o).reason();
    }

    @Test
    void firstClientWinsAndTheSecondGetsAnAlternativePort() throws IOException {
        open(TestConfigs.base());
        assertEquals(6000, granted(table.apply(pmp(A_PMP, 6000, 6000))).externalPort());
        Mapping second = granted(table.apply(pmp(B_PMP, 6000, 6000)));
        assertNotEquals(6000, second.externalPort());
        assertEquals(new Endpoint(B, 6000), second.internal());
        assertEquals(A_PMP, table.find(MappingKey.of(Protocol.TCP, 6000)).orElseThrow().owner());
    }

    @Test
    void aConflictIsRefusedWhenNoAlternativeIsWanted() throws IOException {
        open(TestConfigs.base());
        granted(table.apply(upnp(A_UPNP, 7000, 7000)));
        assertEquals(Reason.CONFLICT, refused(table.apply(upnp(B_UPNP, 7000, 7000))));
        // the same port over another protocol family of the same host is another owner too
        assertEquals(Reason.CONFLICT, refused(table.apply(upnp(A_PMP, 7000, 7000).withOnConflict(OnConflict.FAIL))));
    }

    @Test
    void aRefreshBySameOwnerKeepsThePortAndExtendsTheLease() throws IOException {
        open(TestConfigs.base());
        Mapping first = granted(table.apply(pmp(A_PMP, 0, 6100)));
        clock.advance(Duration.ofSeconds(1000));
        Outcome again = table.apply(pmp(A_PMP, 9999, 6100));
        Mapping refreshed = granted(again);
        assertTrue(((Outcome.Granted) again).refreshed());
        assertEquals(first.externalPort(), refreshed.externalPort());
        assertEquals(clock.instant().plusSeconds(3600), refreshed.expiresAt());
        assertEquals(1, table.view().size());
    }

    @Test
    void portPreservationThenSearchSkipsServicePortsAndDeniedPorts() throws IOException {
        open(TestConfigs.base());
        // internal port 5351 is the gateway's own PCP port: never handed out
        Mapping m = granted(table.apply(pmp(A_PMP, 0, 5351)));
        assertEquals(5352, m.externalPort());
        // a suggested port the rules deny (< 1024) falls back to the internal port
        assertEquals(8080, granted(table.apply(pmp(A_PMP, 80, 8080))).externalPort());
    }

    @Test
    void permissionRulesFirstMatchWins() throws IOException {
        open(TestConfigs.with(true, 64, 100, List.of(
                PermissionRule.parse("deny 6000-6010 0.0.0.0/0 0-65535"),
                PermissionRule.parse("allow 1024-65535 127.0.0.0/8 1024-65535"),
                PermissionRule.parse("deny 0-65535 0.0.0.0/0 0-65535")), List.of(), List.of()));
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(upnp(A_UPNP, 6005, 6005))));
        assertEquals(6011, granted(table.apply(upnp(A_UPNP, 6011, 6005))).externalPort());
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(upnp(A_UPNP, 7000, 80))));
    }

    @Test
    void secureModeLetsAClientMapOnlyToItself() throws IOException {
        open(TestConfigs.base());
        MappingRequest.Map forB = MappingRequest.Map.dynamic(A_UPNP, Protocol.TCP, new Endpoint(B, 6000), 6000, Duration.ofSeconds(60));
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(forB)));
        MappingRequest.Map byAdmin = new MappingRequest.Map(ADMIN, Protocol.TCP, new Endpoint(B, 6000), 6000, RemoteFilter.ANY,
                Duration.ZERO, Kind.STATIC, "admin", "", OnConflict.FAIL, true, false);
        assertTrue(granted(table.apply(byAdmin)).permanent());
    }

    @Test
    void secureModeOffAllowsOtherHosts() throws IOException {
        open(TestConfigs.with(false, 64, 100, List.of(), List.of(), List.of()));
        MappingRequest.Map forB = MappingRequest.Map.dynamic(A_UPNP, Protocol.TCP, new Endpoint(B, 6000), 6000, Duration.ofSeconds(60));
        assertEquals(new Endpoint(B, 6000), granted(table.apply(forB)).internal());
        MappingRequest.Map asThirdParty = new MappingRequest.Map(Owner.of(A, Origin.PCP), Protocol.UDP, new Endpoint(B, 6001), 6001,
                RemoteFilter.ANY, Duration.ofSeconds(600), Kind.DYNAMIC, "", "00", OnConflict.ALTERNATIVE, true, true);
        assertEquals(new Endpoint(B, 6001), granted(table.apply(asThirdParty)).internal());
    }

    @Test
    void thirdPartyOnlyFromConfiguredClients() throws IOException {
        open(TestConfigs.with(true, 64, 100, List.of(), List.of(), List.of(Cidr.parse("127.0.0.2/32"))));
        Owner aPcp = Owner.of(A, Origin.PCP);
        Owner bPcp = Owner.of(B, Origin.PCP);
        MappingRequest.Map fromA = new MappingRequest.Map(aPcp, Protocol.UDP, new Endpoint(ip("127.0.0.9"), 4000), 4000,
                RemoteFilter.ANY, Duration.ofSeconds(600), Kind.DYNAMIC, "", "00", OnConflict.ALTERNATIVE, true, true);
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(fromA)));
        MappingRequest.Map fromB = new MappingRequest.Map(bPcp, Protocol.UDP, new Endpoint(ip("127.0.0.9"), 4000), 4000,
                RemoteFilter.ANY, Duration.ofSeconds(600), Kind.DYNAMIC, "", "00", OnConflict.ALTERNATIVE, true, true);
        assertEquals(ip("127.0.0.9"), granted(table.apply(fromB)).internal().address());
    }

    @Test
    void onlyTheOwnerDeletesAndAdminsDeleteAnything() throws IOException {
        open(TestConfigs.base());
        granted(table.apply(upnp(A_UPNP, 7100, 7100)));
        MappingKey key = MappingKey.of(Protocol.TCP, 7100);
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(new MappingRequest.Delete(B_UPNP, key))));
        assertEquals(Reason.NOT_FOUND, refused(table.apply(new MappingRequest.Delete(A_UPNP, MappingKey.of(Protocol.UDP, 7100)))));
        assertInstanceOf(Outcome.Deleted.class, table.apply(new MappingRequest.Delete(Owner.of(B, Origin.ADMIN), key)));
        assertTrue(table.view().mappings().isEmpty());
    }

    @Test
    void rangeDeleteRemovesOnlyTheRequestersMappings() throws IOException {
        open(TestConfigs.base());
        granted(table.apply(upnp(A_UPNP, 7200, 7200)));
        granted(table.apply(upnp(A_UPNP, 7201, 7201)));
        granted(table.apply(upnp(B_UPNP, 7202, 7202)));
        Outcome.Deleted d = assertInstanceOf(Outcome.Deleted.class,
                table.apply(new MappingRequest.DeleteRange(A_UPNP, Protocol.TCP, 7200, 7300)));
        assertEquals(2, d.removed().size());
        assertEquals(List.of(7202), table.view().mappings().stream().map(Mapping::externalPort).toList());
        assertEquals(Reason.INVALID, refused(table.apply(new MappingRequest.DeleteRange(A_UPNP, null, 9, 8))));
    }

    @Test
    void natPmpDeleteByInternalPortAndDeleteAll() throws IOException {
        open(TestConfigs.base());
        granted(table.apply(pmp(A_PMP, 0, 6300)));
        granted(table.apply(pmp(A_PMP, 0, 6301)));
        granted(table.apply(pmp(B_PMP, 0, 6302)));
        Outcome.Deleted one = (Outcome.Deleted) table.apply(new MappingRequest.DeleteInternal(A_PMP, Protocol.TCP, A, 6300, ""));
        assertEquals(1, one.removed().size());
        Outcome.Deleted all = (Outcome.Deleted) table.apply(new MappingRequest.DeleteInternal(A_PMP, Protocol.TCP, A, 0, ""));
        assertEquals(1, all.removed().size());
        assertEquals(Set.of(B), Set.copyOf(table.view().mappings().stream().map(m -> m.owner().address()).toList()));
    }

    @Test
    void pcpDeleteNeedsTheMappingsNonceAndRefreshAdoptsANewOne() throws IOException {
        open(TestConfigs.base());
        Owner aPcp = Owner.of(A, Origin.PCP);
        MappingRequest.Map req = pmp(aPcp, 6400, 6400).withNonce("aaaaaaaaaaaaaaaaaaaaaaaa");
        int port = granted(table.apply(req)).externalPort();
        Mapping refreshed = granted(table.apply(req.withNonce("bbbbbbbbbbbbbbbbbbbbbbbb")));
        assertEquals(port, refreshed.externalPort());
        assertEquals("bbbbbbbbbbbbbbbbbbbbbbbb", refreshed.nonce());
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(
                new MappingRequest.DeleteInternal(aPcp, Protocol.TCP, A, 6400, "aaaaaaaaaaaaaaaaaaaaaaaa"))));
        assertInstanceOf(Outcome.Deleted.class, table.apply(
                new MappingRequest.DeleteInternal(aPcp, Protocol.TCP, A, 6400, "bbbbbbbbbbbbbbbbbbbbbbbb")));
    }

    @Test
    void quotaPerClientAndGlobalLimit() throws IOException {
        open(TestConfigs.with(true, 2, 3, List.of(), List.of(), List.of()));
        granted(table.apply(pmp(A_PMP, 0, 6500)));
        granted(table.apply(pmp(A_PMP, 0, 6501)));
        assertEquals(Reason.QUOTA_EXCEEDED, refused(table.apply(pmp(A_PMP, 0, 6502))));
        granted(table.apply(pmp(B_PMP, 0, 6503)));
        assertEquals(Reason.NO_RESOURCES, refused(table.apply(pmp(B_PMP, 0, 6504))));
    }

    @Test
    void lifetimesAreClampedPerOrigin() throws IOException {
        open(TestConfigs.base());
        Instant now = clock.instant();
        Mapping huge = granted(table.apply(MappingRequest.Map.dynamic(A_PMP, Protocol.UDP, new Endpoint(A, 6600), 0,
                Duration.ofSeconds(3_600_000))));
        assertEquals(now.plusSeconds(86400), huge.expiresAt());
        Mapping tiny = granted(table.apply(MappingRequest.Map.dynamic(A_PMP, Protocol.UDP, new Endpoint(A, 6601), 0, Duration.ofSeconds(5))));
        assertEquals(now.plusSeconds(120), tiny.expiresAt());
        Mapping upnpZero = granted(table.apply(MappingRequest.Map.dynamic(A_UPNP, Protocol.UDP, new Endpoint(A, 6602), 6602, Duration.ZERO)));
        assertEquals(now.plusSeconds(604800), upnpZero.expiresAt());
    }

    @Test
    void expiryRemovesThroughTheDeletePathAndIsJournaled() throws IOException {
        open(TestConfigs.base());
        granted(table.apply(pmp(A_PMP, 6700, 6700)));
        seen.clear();
        clock.advance(Duration.ofSeconds(3599));
        assertEquals(0, table.expireDue().join());
        clock.advance(Duration.ofSeconds(1));
        assertEquals(1, table.expireDue().join());
        assertEquals(1, seen.size());
        assertEquals(Change.Type.REMOVED, seen.get(0).type());
        assertEquals(Change.Cause.EXPIRED, seen.get(0).cause());
        assertTrue(store.recover(clock.instant()).mappings().isEmpty(), "the removal reached the store");
    }

    @Test
    void staticMappingsFromConfigNeverExpire() throws IOException {
        open(TestConfigs.with(true, 64, 100, List.of(),
                List.of(new StaticMapping(Protocol.TCP, 8022, B, 22, "ssh", true)), List.of()));
        Mapping m = table.find(MappingKey.of(Protocol.TCP, 8022)).orElseThrow();
        assertEquals(Kind.STATIC, m.kind());
        clock.advance(Duration.ofDays(3650));
        assertEquals(0, table.expireDue().join());
        assertEquals(Reason.CONFLICT, refused(table.apply(upnp(B_UPNP, 8022, 22))));
    }

    @Test
    void aResultIsAcknowledgedOnlyAfterItIsDurable() throws Exception {
        CompletableFuture<Void> entered = new CompletableFuture<>();
        CompletableFuture<Void> release = new CompletableFuture<>();
        List<Integer> committedBatches = new CopyOnWriteArrayList<>();
        LeaseStore slow = new ForwardingStore(store) {
            @Override
            public void commit(List<Change> changes) throws IOException {
                entered.complete(null);
                release.join();
                committedBatches.add(changes.size());
                super.commit(changes);
            }
        };
        open(TestConfigs.base(), slow, Forwarder.NONE);
        List<CompletableFuture<Outcome>> pending = new ArrayList<>();
        pending.add(table.submit(pmp(Owner.of(ip("127.0.0.10"), Origin.NATPMP), 0, 10000)));
        entered.get(30, TimeUnit.SECONDS); // the writer is inside the store's commit of the first request
        for (int i = 1; i < 50; i++) {
            pending.add(table.submit(pmp(Owner.of(ip("127.0.0." + (10 + i)), Origin.NATPMP), 0, 10000 + i)));
        }
        assertTrue(pending.stream().noneMatch(CompletableFuture::isDone), "nothing acknowledged before the store returned");
        assertEquals(0, table.view().size(), "nothing visible before it is durable");
        release.complete(null);
        for (CompletableFuture<Outcome> f : pending) {
            granted(f.join());
        }
        assertEquals(List.of(1, 49), committedBatches, "the 49 requests that waited together share one commit");
    }

    @Test
    void closingWhileClientsSubmitLeavesNoCallerWaiting() throws Exception {
        for (int round = 0; round < 50; round++) {
            MappingTable t = new MappingTable(TestConfigs.base(), new InMemoryLeaseStore(), Forwarder.NONE, clock);
            t.start();
            List<CompletableFuture<Outcome>> all = new CopyOnWriteArrayList<>();
            CountDownLatch started = new CountDownLatch(4);
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                Owner o = Owner.of(ip("127.0.0." + (20 + c)), Origin.NATPMP);
                Thread th = new Thread(() -> {
                    started.countDown();
                    for (int i = 0; i < 2000; i++) {
                        CompletableFuture<Outcome> f = t.submit(pmp(o, 0, 20000 + i % 64));
                        all.add(f);
                        if (f.isDone() && f.join() instanceof Outcome.Refused r && r.reason() == Reason.UNAVAILABLE) {
                            return; // the table is closed: stop asking
                        }
                    }
                });
                th.start();
                clients.add(th);
            }
            started.await();
            t.close();
            for (Thread th : clients) {
                th.join(TimeUnit.SECONDS.toMillis(30));
            }
            for (CompletableFuture<Outcome> f : all) {
                assertTrue(f.get(30, TimeUnit.SECONDS) != null, "round " + round + ": every caller is answered");
            }
        }
    }

    @Test
    void anInterruptedWriterStopsAcceptingAndAnswersEveryone() throws Exception {
        open(TestConfigs.base());
        granted(table.apply(pmp(A_PMP, 7800, 7800)));
        Thread writer = table.writerThread();
        writer.interrupt();
        writer.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(writer.isAlive(), "the writer stopped");
        Outcome late = table.submit(pmp(B_PMP, 7801, 7801)).get(30, TimeUnit.SECONDS);
        assertEquals(Reason.UNAVAILABLE, refused(late), "a request after the writer stopped is answered, not queued forever");
    }

    @Test
    void aJournalFailureRevertsTheBatchAndUnbinds() throws IOException {
        List<String> forwarding = new CopyOnWriteArrayList<>();
        Forwarder f = new Forwarder() {
            @Override
            public void prepare(Change c) {
                forwarding.add("open " + c.mapping().externalPort());
            }

            @Override
            public void abort(Change c) {
                forwarding.add("abort " + c.mapping().externalPort());
            }
        };
        boolean[] fail = {false};
        LeaseStore flaky = new ForwardingStore(store) {
            @Override
            public void commit(List<Change> changes) throws IOException {
                if (fail[0]) {
                    throw new IOException("disk full");
                }
                super.commit(changes);
            }
        };
        open(TestConfigs.base(), flaky, f);
        granted(table.apply(pmp(A_PMP, 6800, 6800)));
        fail[0] = true;
        assertEquals(Reason.UNAVAILABLE, refused(table.apply(pmp(B_PMP, 6801, 6801))));
        assertEquals(List.of("open 6800", "open 6801", "abort 6801"), forwarding);
        assertEquals(List.of(6800), table.view().mappings().stream().map(Mapping::externalPort).toList());
        // a removal is never refused for want of a journal: it takes effect now and is journaled later
        assertInstanceOf(Outcome.Deleted.class, table.apply(new MappingRequest.Delete(A_PMP, MappingKey.of(Protocol.TCP, 6800))));
        assertEquals(0, table.view().size());
        assertEquals(List.of(6800), store.rows().stream().map(Mapping::externalPort).toList());
        fail[0] = false;
        assertEquals(6801, granted(table.apply(pmp(B_PMP, 6801, 6801))).externalPort(), "the reverted port is free again");
        assertEquals(List.of(6801), store.rows().stream().map(Mapping::externalPort).toList(), "and the removal journaled");
    }

    @Test
    void aFailedFlushRevertsTheBatchBeforeAnythingIsJournaled() throws IOException {
        List<String> forwarding = new CopyOnWriteArrayList<>();
        boolean[] fail = {false};
        Forwarder f = new Forwarder() {
            @Override
            public void prepare(Change c) {
                forwarding.add("queue " + c.mapping().externalPort());
            }

            @Override
            public void abort(Change c) {
                forwarding.add("abort " + c.mapping().externalPort());
            }

            @Override
            public void flush() throws ForwardingException {
                if (fail[0]) {
                    throw new ForwardingException("netlink: Operation not permitted", null);
                }
                forwarding.add("flush");
            }
        };
        open(TestConfigs.base(), store, f);
        granted(table.apply(pmp(A_PMP, 6810, 6810)));
        fail[0] = true;
        Outcome refused = table.apply(pmp(B_PMP, 6811, 6811));
        assertEquals(Reason.UNAVAILABLE, refused(refused));
        assertTrue(refused.toString().contains("Operation not permitted"), refused::toString);
        assertEquals(List.of("queue 6810", "flush", "queue 6811", "abort 6811"), forwarding);
        assertEquals(List.of(6810), table.view().mappings().stream().map(Mapping::externalPort).toList());
        assertEquals(List.of(6810), store.rows().stream().map(Mapping::externalPort).toList(), "the journal never saw 6811");
        fail[0] = false;
        assertEquals(6811, granted(table.apply(pmp(B_PMP, 6811, 6811))).externalPort(), "the reverted port is free again");
    }

    @Test
    void deletesAndDisablesReachTheForwarderInTheBatchFlushBeforeTheJournalAndAFailedFlushRevertsThem() throws IOException {
        List<String> events = new CopyOnWriteArrayList<>();
        boolean[] fail = {false};
        Forwarder f = new Forwarder() {
            @Override
            public void prepare(Change c) {
                events.add(c.type() + (c.after() != null && !c.after().enabled() ? " disabled " : " ") + c.mapping().externalPort());
            }

            @Override
            public void abort(Change c) {
                events.add("abort " + c.type() + " " + c.mapping().externalPort());
            }

            @Override
            public void flush() throws ForwardingException {
                if (fail[0]) {
                    throw new ForwardingException("nftables refused", null);
                }
                events.add("flush");
            }
        };
        LeaseStore journal = new ForwardingStore(store) {
            @Override
            public void commit(List<Change> changes) throws IOException {
                events.add("journal " + changes.size());
                super.commit(changes);
            }
        };
        open(TestConfigs.base(), journal, f);
        granted(table.apply(upnp(A_UPNP, 6820, 6820)));
        granted(table.apply(upnp(A_UPNP, 6821, 6821)));
        events.clear();

        assertInstanceOf(Outcome.Deleted.class, table.apply(new MappingRequest.Delete(A_UPNP, MappingKey.of(Protocol.TCP, 6820))));
        assertEquals(List.of("REMOVED 6820", "flush", "journal 1"), events, "the delete is in the batch's flush, before the journal");
        events.clear();
        granted(table.apply(upnp(A_UPNP, 6821, 6821).withEnabled(false)));
        assertEquals(List.of("UPDATED disabled 6821", "flush", "journal 1"), events, "so is disabling");
        events.clear();

        granted(table.apply(upnp(A_UPNP, 6822, 6822)));
        events.clear();
        fail[0] = true;
        assertEquals(Reason.UNAVAILABLE, refused(table.apply(new MappingRequest.Delete(A_UPNP, MappingKey.of(Protocol.TCP, 6822)))));
        assertEquals(List.of("REMOVED 6822", "abort REMOVED 6822"), events, "a failed flush reverts the delete, unjournaled");
        assertTrue(table.find(MappingKey.of(Protocol.TCP, 6822)).isPresent(), "the row stays");
    }

    @Test
    void aPortTheDataplaneCannotBindIsSkippedOrRefused() throws IOException {
        Forwarder busy = new Forwarder() {
            @Override
            public void prepare(Change c) throws ForwardingException {
                if (c.mapping().externalPort() == 6900) {
                    throw new ForwardingException("address in use", null);
                }
            }

            @Override
            public void abort(Change c) {
            }
        };
        open(TestConfigs.base(), store, busy);
        assertEquals(6901, granted(table.apply(pmp(A_PMP, 6900, 6900))).externalPort());
        assertEquals(Reason.NO_RESOURCES, refused(table.apply(upnp(A_UPNP, 6900, 6900))));
        assertFalse(table.find(MappingKey.of(Protocol.TCP, 6900)).isPresent());
    }

    @Test
    void aRestoredRowTheDataplaneCannotReopenIsDroppedAndJournaledAsRestored() throws IOException {
        open(TestConfigs.base());
        granted(table.apply(pmp(A_PMP, 7350, 7350)));
        granted(table.apply(pmp(A_PMP, 7351, 7351)));
        table.close();
        List<Change> journaled = new CopyOnWriteArrayList<>();
        LeaseStore watching = new ForwardingStore(store) {
            @Override
            public void commit(List<Change> changes) throws IOException {
                journaled.addAll(changes);
                super.commit(changes);
            }
        };
        Forwarder portTaken = new Forwarder() {
            @Override
            public void prepare(Change c) throws ForwardingException {
                if (c.mapping().externalPort() == 7351) {
                    throw new ForwardingException("address in use", null);
                }
            }

            @Override
            public void abort(Change c) {
            }
        };
        MappingTable again = new MappingTable(TestConfigs.base(), watching, portTaken, clock);
        table = again;
        assertEquals(new MappingTable.Startup(1, 0, 1, true), again.start());
        assertEquals(List.of(Change.Type.REMOVED), journaled.stream().map(Change::type).toList());
        assertEquals(Change.Cause.RESTORED, journaled.get(0).cause(), "not a client's request");
        assertEquals(7351, journaled.get(0).before().externalPort());
        assertEquals(List.of(7350), store.rows().stream().map(Mapping::externalPort).toList());
    }

    @Test
    void restartRestoresLeasesKeepsTheEpochAndDropsExpired() throws IOException {
        open(TestConfigs.base());
        Instant epoch = table.epochStart();
        granted(table.apply(pmp(A_PMP, 7300, 7300)));
        granted(table.apply(MappingRequest.Map.dynamic(B_PMP, Protocol.UDP, new Endpoint(B, 7301), 7301, Duration.ofSeconds(200))));
        table.close();
        clock.advance(Duration.ofSeconds(300));
        MappingTable again = new MappingTable(TestConfigs.base(), store, Forwarder.NONE, clock);
        MappingTable.Startup s = again.start();
        table = again;
        assertEquals(new MappingTable.Startup(1, 1, 0, true), s);
        assertEquals(epoch, again.epochStart());
        assertEquals(300, again.epochSeconds());
        assertEquals(List.of(7300), again.view().mappings().stream().map(Mapping::externalPort).toList());
    }

    @Test
    void restartOnAnotherExternalAddressKeepsTheLeasesAndStartsANewEpoch() throws IOException {
        open(TestConfigs.base());
        granted(table.apply(pmp(A_PMP, 7300, 7300)));
        table.close();
        // the journal's last state names the address the leases were made on: not the one configured now
        store.recordState(store.recover(clock.instant()).epochStart(), ip("127.0.1.9"));
        clock.advance(Duration.ofSeconds(300));
        MappingTable again = new MappingTable(TestConfigs.base(), store, Forwarder.NONE, clock);
        table = again;
        assertEquals(new MappingTable.Startup(1, 0, 0, false), again.start(), "restored, but the epoch does not continue");
        assertEquals(0, again.epochSeconds(), "RFC 6887 §8.5: state kept on another external address is a new epoch");
        assertEquals(List.of(7300), again.view().mappings().stream().map(Mapping::externalPort).toList());
        LeaseStore.Recovered kept = store.recover(clock.instant());
        assertEquals(TestConfigs.WAN, kept.externalAddress(), "the new address is recorded with the new epoch");
        assertEquals(clock.instant(), kept.epochStart());
    }

    @Test
    void externalAddressChangeIsRecordedAndAnnounced() throws IOException {
        List<InetAddress> announced = new CopyOnWriteArrayList<>();
        table = new MappingTable(TestConfigs.base(), store, Forwarder.NONE, clock);
        table.addListener(new TableListener() {
            @Override
            public void committed(List<Change> changes) {
            }

            @Override
            public void externalAddressChanged(InetAddress previous, InetAddress current) {
                announced.add(current);
            }
        });
        table.start();
        clock.advance(Duration.ofSeconds(500));
        assertEquals(500, table.epochSeconds());
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(new MappingRequest.SetExternalAddress(A_PMP, ip("127.0.1.2")))));
        assertEquals(500, table.epochSeconds(), "a refused change leaves the epoch alone");
        assertInstanceOf(Outcome.Done.class, table.apply(new MappingRequest.SetExternalAddress(ADMIN, ip("127.0.1.2"))));
        assertEquals(List.of(ip("127.0.1.2")), announced);
        assertEquals(ip("127.0.1.2"), table.externalAddress());
        assertEquals(0, table.epochSeconds(), "RFC 6887 §8.5: a new external address restarts the epoch");
        LeaseStore.Recovered kept = store.recover(clock.instant());
        assertEquals(ip("127.0.1.2"), kept.externalAddress());
        assertEquals(clock.instant(), kept.epochStart(), "the new epoch is recorded with the address");
        assertInstanceOf(Outcome.Done.class, table.apply(new MappingRequest.SetExternalAddress(ADMIN, ip("127.0.1.2"))));
        clock.advance(Duration.ofSeconds(7));
        assertEquals(7, table.epochSeconds(), "the same address again is no change");
    }

    @Test
    void remoteFiltersShareAPortWithoutOverlap() throws IOException {
        open(TestConfigs.base());
        MappingRequest.Map fromX = upnp(A_UPNP, 7400, 7400).withRemote(RemoteFilter.host(ip("203.0.113.5")));
        MappingRequest.Map fromY = upnp(B_UPNP, 7400, 7400).withRemote(RemoteFilter.host(ip("203.0.113.6")));
        granted(table.apply(fromX));
        granted(table.apply(fromY));
        assertEquals(Reason.CONFLICT, refused(table.apply(upnp(B_UPNP, 7400, 7401))), "a wildcard overlaps both");
        TableView v = table.view();
        assertEquals(A, v.lookup(Protocol.TCP, 7400, ip("203.0.113.5"), 1).orElseThrow().internal().address());
        assertEquals(B, v.lookup(Protocol.TCP, 7400, ip("203.0.113.6"), 1).orElseThrow().internal().address());
        assertTrue(v.lookup(Protocol.TCP, 7400, ip("203.0.113.7"), 1).isEmpty());
    }

    @Test
    void listingIsOrderedAndRangeQueriesAgreeWithIndexes() throws IOException {
        open(TestConfigs.base());
        for (int p : new int[] {9003, 9001, 9002}) {
            granted(table.apply(upnp(A_UPNP, p, p)));
        }
        granted(table.apply(MappingRequest.Map.dynamic(A_UPNP, Protocol.UDP, new Endpoint(A, 9000), 9000, Duration.ofSeconds(60))
                .withOnConflict(OnConflict.FAIL)));
        TableView v = table.view();
        assertEquals(List.of(9001, 9002, 9003, 9000), v.mappings().stream().map(Mapping::externalPort).toList());
        assertEquals(List.of(9002, 9003), v.range(Protocol.TCP, 9002, 9010, 10).stream().map(Mapping::externalPort).toList());
        assertEquals(List.of(9001), v.range(Protocol.TCP, 0, 65535, 1).stream().map(Mapping::externalPort).toList());
        assertEquals(9000, v.get(3).orElseThrow().externalPort());
        assertTrue(v.get(4).isEmpty());
        granted(table.apply(upnp(A_UPNP, 9004, 9004)));
        assertEquals(4, v.size(), "a view does not change under its reader");
        assertEquals(5, table.view().size());
    }

    @Test
    void upnpSameOwnerSamePortUpdatesInPlace() throws IOException {
        open(TestConfigs.base());
        granted(table.apply(upnp(A_UPNP, 7500, 7500).withDescription("game")));
        seen.clear();
        Outcome o = table.apply(upnp(A_UPNP, 7500, 7501).withEnabled(false));
        Mapping m = granted(o);
        assertEquals(7501, m.internal().port());
        assertFalse(m.enabled());
        assertEquals("game", m.description());
        assertEquals(Change.Type.UPDATED, seen.get(0).type());
        assertTrue(seen.get(0).affectsForwarding());
    }

    @Test
    void staticsAreForPrivilegedOwnersOnly() throws IOException {
        open(TestConfigs.base());
        MappingRequest.Map bad = new MappingRequest.Map(A_UPNP, Protocol.TCP, new Endpoint(A, 7600), 7600, RemoteFilter.ANY,
                Duration.ZERO, Kind.STATIC, "", "", OnConflict.FAIL, true, false);
        assertEquals(Reason.NOT_AUTHORIZED, refused(table.apply(bad)));
        assertEquals(Reason.INVALID, refused(table.apply(upnp(A_UPNP, 0, 7600))));
        assertEquals(Reason.INVALID, refused(table.apply(pmp(A_PMP, 7600, 0))));
    }

    @Test
    void aRemovedListenerHearsNoMoreChanges() throws IOException {
        open(TestConfigs.base());
        List<Change> late = new CopyOnWriteArrayList<>();
        TableListener listener = late::addAll;
        table.addListener(listener);
        granted(table.apply(pmp(A_PMP, 7700, 7700)));
        table.removeListener(listener);
        granted(table.apply(pmp(A_PMP, 7701, 7701)));
        assertEquals(List.of(7700), late.stream().map(c -> c.mapping().externalPort()).toList());
        assertEquals(2, seen.size(), "the other listeners still hear everything");
    }

    @Test
    void sizeAndVersionWithoutAViewFollowTheCommittedRows() throws IOException {
        open(TestConfigs.base());
        assertEquals(0, table.size());
        granted(table.apply(pmp(A_PMP, 6000, 6000)));
        granted(table.apply(pmp(B_PMP, 6001, 6001)));
        assertEquals(2, table.size());
        assertEquals(table.view().version(), table.version());
        long before = table.version();
        granted(table.apply(pmp(A_PMP, 6000, 6000))); // a refresh: same rows, one more version
        assertEquals(2, table.size());
        assertEquals(before + 1, table.version());
        refused(table.apply(upnp(B_UPNP, 6000, 7000))); // held by A: nothing committed
        assertEquals(before + 1, table.version());
        assertInstanceOf(Outcome.Deleted.class, table.apply(new MappingRequest.Delete(A_PMP, MappingKey.of(Protocol.TCP, 6000))));
        assertEquals(1, table.size());
        assertEquals(table.view().size(), table.size());
        assertEquals(table.view().version(), table.version());
    }
}
