package io.natgw.core;

import io.natgw.conf.Protocol;
import io.natgw.core.Outcome.Reason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import static io.natgw.core.MappingTableTest.granted;
import static io.natgw.core.MappingTableTest.pmp;
import static io.natgw.core.MappingTableTest.refused;
import static io.natgw.core.MappingTableTest.upnp;
import static io.natgw.core.TestConfigs.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 10: a failure inside a writer batch (the dataplane's prepare throwing, the journal failing, a listener
 * throwing) leaves the table, the journal and the dataplane exactly as before each failed request, with several
 * requests per batch. After each, every row is deletable and the dataplane forwards exactly what the table lists.
 */
class BatchFailureTest {

    static final InetAddress A = ip("127.0.0.1");
    static final InetAddress B = ip("127.0.0.2");
    static final Owner A_PMP = Owner.of(A, Origin.NATPMP);
    static final Owner B_PMP = Owner.of(B, Origin.NATPMP);
    static final Owner A_UPNP = Owner.of(A, Origin.UPNP);
    static final Owner ADMIN = Owner.of(A, Origin.ADMIN);

    final TestClock clock = new TestClock(Instant.parse("2026-11-21T06:00:00Z"));
    final InMemoryLeaseStore rows = new InMemoryLeaseStore();
    final GatedStore store = new GatedStore(rows);
    final RecordingForwarder forwarder = new RecordingForwarder();
    final List<Change> heard = new CopyOnWriteArrayList<>();
    MappingTable table;

    /** A store whose next commit can be held (so that requests pile up into one batch) or made to fail. */
    static final class GatedStore extends ForwardingStore {
        volatile CompletableFuture<Void> entered;
        volatile CompletableFuture<Void> release;
        volatile Function<List<Change>, IOException> fault = c -> null;

        GatedStore(LeaseStore inner) {
            super(inner);
        }

        @Override
        public void commit(List<Change> changes) throws IOException {
            CompletableFuture<Void> r = release;
            if (r != null) { // the plug's commit: held, and never failed
                release = null;
                entered.complete(null);
                r.join();
                super.commit(changes);
                return;
            }
            IOException e = fault.apply(changes);
            if (e != null) {
                throw e;
            }
            super.commit(changes);
        }
    }

    void open(TableListener... before) throws IOException {
        table = new MappingTable(TestConfigs.base(), store, forwarder, clock);
        for (TableListener l : before) {
            table.addListener(l);
        }
        table.addListener(forwarder);
        table.addListener(heard::addAll);
        table.start();
    }

    @AfterEach
    void close() throws IOException {
        if (table != null) {
            table.close();
        }
    }

    /**
     * Runs the requests as one writer batch: the writer is held in the commit of a plug request before them, then
     * the plug's row is deleted again.
     */
    List<Outcome> inOneBatch(MappingRequest... requests) {
        CompletableFuture<Void> release = new CompletableFuture<>();
        store.entered = new CompletableFuture<>();
        store.release = release;
        CompletableFuture<Outcome> plug = table.submit(pmp(Owner.of(ip("127.0.0.99"), Origin.NATPMP), 0, 9999));
        store.entered.join();
        List<CompletableFuture<Outcome>> pending = new ArrayList<>();
        for (MappingRequest r : requests) {
            pending.add(table.submit(r));
        }
        release.complete(null);
        granted(plug.join());
        table.apply(new MappingRequest.DeleteInternal(Owner.of(ip("127.0.0.99"), Origin.NATPMP), null, null, 0, ""));
        return pending.stream().map(CompletableFuture::join).toList();
    }

    /** The dataplane forwards what the table lists, the journal holds it, and every row can be deleted. */
    void assertConsistentAndEveryRowDeletable() {
        assertEquals(RecordingForwarder.expected(table.view()), forwarder.routes(), "forwarding = table");
        assertEquals(byKey(table.view().mappings()), byKey(rows.rows()), "journal = table");
        for (Mapping m : table.view().mappings()) {
            Outcome o = table.apply(new MappingRequest.Delete(m.owner(), m.key()));
            assertEquals(List.of(m), assertInstanceOf(Outcome.Deleted.class, o, o::toString).removed());
        }
        assertEquals(0, table.view().size());
        assertEquals(Map.of(), forwarder.routes());
        assertEquals(List.of(), rows.rows());
    }

    static Map<MappingKey, Mapping> byKey(List<Mapping> list) {
        Map<MappingKey, Mapping> m = new TreeMap<>();
        list.forEach(r -> m.put(r.key(), r));
        return m;
    }

    @ParameterizedTest(name = "prepare throws {0}")
    @ValueSource(strings = {"IllegalStateException", "ForwardingException"})
    void aPrepareFailureFailsOnlyItsOwnRequestAndLeavesNothingBehind(String kind) throws IOException {
        open();
        granted(table.apply(upnp(A_UPNP, 7000, 7000)));
        granted(table.apply(pmp(B_PMP, 7010, 7010)));
        forwarder.fault = c -> c.after() == null || c.after().externalPort() != 7002 ? null
                : kind.equals("ForwardingException") ? new Forwarder.ForwardingException("too many open files", null)
                : new IllegalStateException("closing a channel that was never registered");

        List<Outcome> out = inOneBatch(
                upnp(A_UPNP, 7001, 7001),
                upnp(A_UPNP, 7002, 7002),                                     // cannot be bound
                new MappingRequest.Delete(A_UPNP, MappingKey.of(Protocol.TCP, 7000)),
                pmp(A_PMP, 7002, 7003),                                       // wants 7002: another port instead
                pmp(B_PMP, 7010, 7010).withDescription("refresh"));

        assertEquals(7001, granted(out.get(0)).externalPort());
        assertEquals(Reason.NO_RESOURCES, refused(out.get(1)));
        assertInstanceOf(Outcome.Deleted.class, out.get(2));
        int alternative = granted(out.get(3)).externalPort();
        assertNotEquals(7002, alternative);
        assertTrue(granted(out.get(4)).description().equals("refresh"));
        assertEquals(List.of(7001, 7010, alternative).stream().sorted().toList(),
                table.view().mappings().stream().map(Mapping::externalPort).sorted().toList());
        assertFalse(forwarder.routes().containsKey(MappingKey.of(Protocol.TCP, 7002)), "the half-bound port was undone");
        forwarder.fault = c -> null;
        assertConsistentAndEveryRowDeletable();
    }

    @Test
    void aJournalFailureRefusesTheBatchsGrantsButItsRemovalsTakeEffectAndAreJournaledLater() throws IOException {
        open();
        granted(table.apply(upnp(A_UPNP, 7100, 7100)));
        granted(table.apply(pmp(B_PMP, 7101, 7101)));
        store.fault = c -> new IOException("journal /var/lib/natgw/journal.bin: No space left on device");

        List<Outcome> out = inOneBatch(
                upnp(A_UPNP, 7102, 7102),
                new MappingRequest.Delete(A_UPNP, MappingKey.of(Protocol.TCP, 7100)),
                pmp(B_PMP, 7101, 7101),                                       // a refresh is a grant too
                upnp(A_UPNP, 7103, 7103),
                new MappingRequest.Delete(A_UPNP, MappingKey.of(Protocol.TCP, 7103))); // added in this batch: gone with it

        assertEquals(Reason.UNAVAILABLE, refused(out.get(0)));
        assertTrue(out.get(0).toString().contains("No space left on device"), out.get(0)::toString);
        assertEquals(7100, assertInstanceOf(Outcome.Deleted.class, out.get(1)).removed().get(0).externalPort());
        assertEquals(Reason.UNAVAILABLE, refused(out.get(2)));
        assertEquals(Reason.UNAVAILABLE, refused(out.get(3)));
        assertEquals(Reason.NOT_FOUND, refused(out.get(4)));
        assertEquals(List.of(7101), table.view().mappings().stream().map(Mapping::externalPort).toList());
        assertEquals(RecordingForwarder.expected(table.view()), forwarder.routes(), "the removal took effect at once");
        assertTrue(heard.stream().anyMatch(c -> c.type() == Change.Type.REMOVED && c.before().externalPort() == 7100),
                "listeners (relays) heard the removal");
        assertTrue(table.journalBehind());
        assertEquals(List.of(7100, 7101, 9999), rows.rows().stream().map(Mapping::externalPort).sorted().toList(),
                "the removals (7100, the plug's 9999) are not journaled yet");

        // expiry takes effect too while the journal cannot write
        clock.advance(Duration.ofHours(2));
        assertEquals(1, table.expireDue().join());
        assertEquals(0, table.view().size());
        assertEquals(Map.of(), forwarder.routes());
        assertEquals(Reason.UNAVAILABLE, refused(table.apply(pmp(B_PMP, 7104, 7104))), "grants stay refused");

        store.fault = c -> null; // space is back: the next commit (the timer's, or any request's) catches up
        table.expireDue().join();
        assertFalse(table.journalBehind());
        assertEquals(List.of(), rows.rows(), "the removals made while it failed are journaled");
        granted(table.apply(pmp(B_PMP, 7104, 7104)));
        assertConsistentAndEveryRowDeletable();
    }

    @Test
    void aListenerThatThrowsStopsNeitherTheOtherListenersNorTheTable() throws IOException {
        TableListener throwsRuntime = changes -> {
            throw new IllegalStateException("a listener's bug");
        };
        TableListener throwsError = changes -> {
            throw new AssertionError("a listener's error");
        };
        open(throwsRuntime, throwsError);
        granted(table.apply(upnp(A_UPNP, 7200, 7200)));
        List<Outcome> out = inOneBatch(
                upnp(A_UPNP, 7201, 7201),
                new MappingRequest.Delete(A_UPNP, MappingKey.of(Protocol.TCP, 7200)),
                pmp(B_PMP, 7202, 7202));
        granted(out.get(0));
        assertInstanceOf(Outcome.Deleted.class, out.get(1));
        granted(out.get(2));
        assertEquals(List.of(7201, 7202), table.view().mappings().stream().map(Mapping::externalPort).toList());
        assertConsistentAndEveryRowDeletable();
    }

    @Test
    void aJournalFailureAfterARouteWasMovedPutsTheOldRouteBack() throws IOException {
        open();
        granted(table.apply(upnp(A_UPNP, 7300, 7300)));
        boolean[] failFlush = {true};
        store.fault = c -> failFlush[0] ? new IOException("fsync: Input/output error") : null;
        List<Outcome> out = inOneBatch(
                new MappingRequest.Map(A_UPNP, Protocol.TCP, new Endpoint(A, 7399), 7300, RemoteFilter.ANY,
                        Duration.ofHours(1), Kind.DYNAMIC, "moved", "", MappingRequest.OnConflict.FAIL, true, false),
                upnp(A_UPNP, 7301, 7301));
        assertEquals(Reason.UNAVAILABLE, refused(out.get(0)));
        assertEquals(Reason.UNAVAILABLE, refused(out.get(1)));
        assertEquals(7300, forwarder.routes().get(MappingKey.of(Protocol.TCP, 7300)).internal().port(),
                "the displaced route is back");
        failFlush[0] = false;
        table.expireDue().join(); // journals the plug's removal
        assertConsistentAndEveryRowDeletable();
    }
}
