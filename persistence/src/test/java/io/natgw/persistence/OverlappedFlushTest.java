package io.natgw.persistence;

import io.natgw.conf.Protocol;
import io.natgw.core.Change;
import io.natgw.core.Endpoint;
import io.natgw.core.Forwarder;
import io.natgw.core.ForwardingStore;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import io.natgw.core.MappingRequest;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import io.natgw.core.RecordingForwarder;
import io.natgw.core.TableListener;
import io.natgw.core.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static io.natgw.persistence.Rows.T0;
import static io.natgw.persistence.Rows.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12's control plane with kernel forwarding, on the real journal: with a forwarder whose flush is a transaction
 * of its own ({@link Forwarder#flushesBatches}, as the kernel forwarder's nftables transaction) the table's journal
 * thread commits the batch while the writer flushes it. The failure contract stays exact: the dataplane refusing a
 * batch the journal recorded refuses it and takes it back in the journal (a compensating batch), so a restart from
 * that journal (as after kill -9) does not restore it; a journal failure while the dataplane took the batch puts the
 * forwarding back; both failing leaves everything as it was.
 */
class OverlappedFlushTest {

    static final Owner A = Owner.of(ip("127.0.0.5"), Origin.PCP);

    @TempDir
    Path dir;

    final TestClock clock = new TestClock(T0);
    final Batching forwarder = new Batching();
    JournalLeaseStore store;
    MappingTable table;

    /**
     * {@link RecordingForwarder}'s contract (routes set in prepare, put back by abort) with a flush that is a
     * transaction: the journal commits beside it; it refuses, as nftables does, while {@link #refuse} is set.
     */
    static final class Batching implements Forwarder, TableListener {
        final RecordingForwarder routes = new RecordingForwarder();
        final Set<String> flushThreads = ConcurrentHashMap.newKeySet();
        volatile boolean refuse;

        @Override
        public boolean flushesBatches() {
            return true;
        }

        @Override
        public void prepare(Change change) throws ForwardingException {
            routes.prepare(change);
        }

        @Override
        public void abort(Change change) {
            routes.abort(change);
        }

        @Override
        public void flush() throws ForwardingException {
            flushThreads.add(Thread.currentThread().getName());
            if (refuse) {
                throw new ForwardingException("nftables: Error: Could not process rule: No such file or directory", null);
            }
        }

        @Override
        public void committed(List<Change> changes) {
            routes.committed(changes);
        }
    }

    /** The journal, with {@code afterCommit} run once each commit returned (where a test makes the next one fail). */
    static final class Observed extends ForwardingStore {
        final Set<String> commitThreads = ConcurrentHashMap.newKeySet();
        volatile Runnable afterCommit = () -> { };

        Observed(JournalLeaseStore store) {
            super(store);
        }

        @Override
        public void commit(List<Change> changes) throws IOException {
            commitThreads.add(Thread.currentThread().getName());
            super.commit(changes);
            afterCommit.run();
        }
    }

    Observed open() throws IOException {
        store = JournalLeaseStore.open(dir, clock);
        Observed observed = new Observed(store);
        table = new MappingTable(TableConfigs.forLoad(dir), observed, forwarder, clock);
        table.addListener(forwarder);
        table.start();
        return observed;
    }

    @AfterEach
    void close() throws IOException {
        if (table != null) {
            table.close();
        }
    }

    static MappingRequest.Map map(int port) {
        return MappingRequest.Map.dynamic(A, Protocol.TCP, new Endpoint(A.address(), port), port, Duration.ofHours(1));
    }

    static MappingRequest.Delete delete(int port) {
        return new MappingRequest.Delete(A, MappingKey.of(Protocol.TCP, port));
    }

    static List<Integer> ports(List<Mapping> rows) {
        return rows.stream().map(Mapping::externalPort).sorted().toList();
    }

    /** What a new process restores from the journal after this one was killed (its files let go, nothing written). */
    List<Integer> restoredAfterKill() throws IOException {
        return ports(rowsAfterKill());
    }

    List<Mapping> rowsAfterKill() throws IOException {
        store.abandon();
        table.close(); // writes nothing more: its files are let go
        table = null;
        RecordingForwarder restarted = new RecordingForwarder();
        MappingTable again = new MappingTable(TableConfigs.forLoad(dir), JournalLeaseStore.open(dir, clock), restarted, clock);
        again.addListener(restarted);
        try {
            again.start();
            assertEquals(RecordingForwarder.expected(again.view()), restarted.routes());
            return again.view().mappings();
        } finally {
            again.close();
        }
    }

    void assertForwardingIsTheTable() {
        assertEquals(RecordingForwarder.expected(table.view()), forwarder.routes.routes(), "forwarding follows the table");
    }

    @Test
    void theJournalCommitsOnItsThreadWhileTheWriterFlushesAndAGrantIsDurableAndForwarded() throws IOException {
        Observed observed = open();
        observed.commitThreads.clear();
        assertInstanceOf(Outcome.Granted.class, table.apply(map(6000)));
        assertEquals(Set.of("natgw-table-writer"), forwarder.flushThreads, "the forwarder stays on the writer thread");
        assertEquals(Set.of("natgw-table-journal"), observed.commitThreads, "committed beside the flush");
        assertForwardingIsTheTable();
        assertEquals(List.of(6000), ports(table.view().mappings()));
        assertEquals(List.of(6000), restoredAfterKill());
    }

    @Test
    void aBatchNftablesRefusesAfterTheJournalRecordedItIsRefusedAndARestartDoesNotRestoreIt() throws IOException {
        open();
        assertInstanceOf(Outcome.Granted.class, table.apply(map(6000)));
        List<Mapping> before = table.view().mappings();
        long commits = store.stats().commits();
        forwarder.refuse = true;

        Outcome add = table.apply(map(6001));
        assertEquals(Outcome.Reason.UNAVAILABLE, assertInstanceOf(Outcome.Refused.class, add).reason());
        assertTrue(add.toString().contains("No such file or directory"), "says why: " + add);
        Outcome remove = table.apply(delete(6000));
        assertEquals(Outcome.Reason.UNAVAILABLE, assertInstanceOf(Outcome.Refused.class, remove).reason());
        clock.advance(Duration.ofMinutes(5));
        Outcome refresh = table.apply(map(6000)); // an update: its inverse puts the older lease back in the journal
        assertEquals(Outcome.Reason.UNAVAILABLE, assertInstanceOf(Outcome.Refused.class, refresh).reason());
        assertEquals(before, table.view().mappings());
        assertForwardingIsTheTable();
        assertFalse(table.journalBehind());
        // each refused batch was journaled beside the flush, then taken back by its compensating batch
        assertEquals(commits + 6, store.stats().commits());

        forwarder.refuse = false;
        assertInstanceOf(Outcome.Granted.class, table.apply(map(6002)));
        List<Mapping> shown = table.view().mappings();
        assertEquals(List.of(6000, 6002), ports(shown));
        assertEquals(before.get(0), shown.get(0), "the refused refresh did not happen");
        assertEquals(shown, rowsAfterKill(), "the refused grant is not restored, the refused delete and refresh did"
                + " not happen");
    }

    /**
     * A grant of 6000 in place, then the forwarder refusing and the journal failing its next {@code appends} appends
     * (or erasures) once it has recorded the next batch: the dataplane refuses a batch the journal holds, and taking
     * it back meets a full disk.
     */
    void refuseTheNextBatchThenFailAppends(int appends) throws IOException {
        Observed observed = open();
        assertInstanceOf(Outcome.Granted.class, table.apply(map(6000)));
        forwarder.refuse = true;
        observed.afterCommit = () -> {
            observed.afterCommit = () -> { };
            store.failAppends(appends, new JournalFault.Write("No space left on device"));
        };
    }

    @Test
    void whenTheCompensatingCommitFailsTheRefusedBatchIsErasedFromTheJournalSoAKill9RightAfterDoesNotRestoreIt()
            throws IOException {
        refuseTheNextBatchThenFailAppends(1); // the compensation only

        Outcome add = table.apply(map(6001));
        assertEquals(Outcome.Reason.UNAVAILABLE, assertInstanceOf(Outcome.Refused.class, add).reason());
        assertEquals(List.of(6000), ports(table.view().mappings()));
        assertForwardingIsTheTable();
        assertFalse(table.journalBehind(), "nothing waits: the refused batch was erased in place");
        // killed now, before any other write: the journal on disk no longer holds the refused grant
        assertEquals(List.of(6000), restoredAfterKill(), "the refused grant is not restored");
    }

    @Test
    void aRefusedBatchErasedFromTheJournalLeavesItWritableAndLaterGrantsDurable() throws IOException {
        refuseTheNextBatchThenFailAppends(1);
        assertInstanceOf(Outcome.Refused.class, table.apply(map(6001)));
        forwarder.refuse = false;
        assertInstanceOf(Outcome.Granted.class, table.apply(map(6002))); // the files rewritten from memory first
        assertInstanceOf(Outcome.Deleted.class, table.apply(delete(6000)));
        assertForwardingIsTheTable();
        assertEquals(List.of(6002), restoredAfterKill());
    }

    @Test
    void whenTheCompensatingCommitAndTheErasureFailTheTableFailsClosedUntilTheJournalTakesTheBatchBack()
            throws IOException {
        refuseTheNextBatchThenFailAppends(3); // the compensation, the erasure of the refused batch, the next append

        Outcome add = table.apply(map(6001));
        assertEquals(Outcome.Reason.UNAVAILABLE, assertInstanceOf(Outcome.Refused.class, add).reason());
        assertEquals(List.of(6000), ports(table.view().mappings()));
        assertForwardingIsTheTable();
        assertTrue(table.journalBehind(), "the take-back waits for the journal");

        forwarder.refuse = false;
        Outcome whileBehind = table.apply(map(6002)); // the journal's second failure: a grant is refused (fail closed)
        assertEquals(Outcome.Reason.UNAVAILABLE, assertInstanceOf(Outcome.Refused.class, whileBehind).reason());
        assertTrue(table.journalBehind());
        assertEquals(0, table.expireDue().join()); // the timer's retry: the journal writes again, the take-back first
        assertFalse(table.journalBehind());
        assertForwardingIsTheTable();

        assertEquals(List.of(6000), restoredAfterKill(), "neither refused grant is restored");
    }

    @Test
    void aJournalFailureWhileTheFlushTookTheBatchPutsTheForwardingBack() throws IOException {
        open();
        assertInstanceOf(Outcome.Granted.class, table.apply(map(6000)));
        store.failAppends(1, new JournalFault.Sync("Input/output error"));

        Outcome add = table.apply(map(6001));
        assertEquals(Outcome.Reason.UNAVAILABLE, assertInstanceOf(Outcome.Refused.class, add).reason());
        assertEquals(List.of(6000), ports(table.view().mappings()));
        assertFalse(forwarder.routes.routes().containsKey(MappingKey.of(Protocol.TCP, 6001)), "the element is gone");
        assertForwardingIsTheTable();

        Outcome removal = table.apply(delete(6000)); // the journal writes again (rewritten from memory first)
        assertInstanceOf(Outcome.Deleted.class, removal);
        assertForwardingIsTheTable();
        assertEquals(List.of(), restoredAfterKill());
    }

    @Test
    void whenBothFailNothingChangesAndARestartRestoresWhatTheTableShowed() throws IOException {
        open();
        assertInstanceOf(Outcome.Granted.class, table.apply(map(6000)));
        forwarder.refuse = true;
        store.failAppends(1, new JournalFault.Write("No space left on device"));

        Outcome add = table.apply(map(6001));
        assertEquals(Outcome.Reason.UNAVAILABLE, assertInstanceOf(Outcome.Refused.class, add).reason());
        assertEquals(List.of(6000), ports(table.view().mappings()));
        assertForwardingIsTheTable();

        forwarder.refuse = false;
        assertEquals(0, table.expireDue().join());
        assertFalse(table.journalBehind());
        assertEquals(List.of(6000), restoredAfterKill());
    }
}
