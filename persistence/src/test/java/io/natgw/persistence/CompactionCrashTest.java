package io.natgw.persistence;

import io.natgw.core.Change;
import io.natgw.core.LeaseStore;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.natgw.persistence.Rows.T0;
import static io.natgw.persistence.Rows.ip;
import static io.natgw.persistence.Rows.lease;
import static io.natgw.persistence.Rows.staticRow;
import static io.natgw.persistence.StoreFixture.openRecovered;
import static io.natgw.persistence.StoreFixture.reopen;
import static io.natgw.persistence.StoreFixture.sorted;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A crash at each step of a compaction (snapshot written, renamed, journal replaced) loses nothing. */
class CompactionCrashTest {

    @TempDir
    Path dir;

    private final Map<MappingKey, Mapping> model = new LinkedHashMap<>();

    /** Stands for the process dying: thrown from inside the compaction, so nothing after it runs. */
    static final class Killed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Killed(CompactionStep step) {
            super("killed at " + step, null, false, false);
        }
    }

    @ParameterizedTest
    @EnumSource(CompactionStep.class)
    void aCrashAtEveryStepOfACompactionRestoresTheSameRows(CompactionStep step) throws IOException {
        Instant epoch = T0.minusSeconds(600);
        InetAddress wan = ip("203.0.113.20");
        // generation 1: a snapshot of rows and state; then a journal of further changes on top of it
        JournalLeaseStore store = openRecovered(dir);
        store.recordState(epoch, wan);
        for (int port = 2000; port < 2020; port++) {
            put(store, lease(port));
        }
        put(store, staticRow(53));
        store.close();
        store = openRecovered(dir);
        for (int port = 2000; port < 2005; port++) {
            remove(store, lease(port));
        }
        put(store, lease(2010).withExpiry(T0.plus(Duration.ofHours(3))));
        put(store, lease(2100));

        Killed killed = new Killed(step);
        store.crashAt(step, killed);
        JournalLeaseStore dying = store;
        assertSame(killed, assertThrows(Killed.class, dying::close));

        LeaseStore.Recovered r = reopen(dir, T0);
        assertEquals(new LeaseStore.Recovered(sorted(model), 0, epoch, wan), r, "crash at " + step);
        assertFalse(Files.exists(dir.resolve(JournalLeaseStore.SNAPSHOT_TMP)), "leftover snapshot.tmp removed");
        assertFalse(Files.exists(dir.resolve(JournalLeaseStore.JOURNAL_TMP)), "leftover journal.tmp removed");

        JournalLeaseStore after = openRecovered(dir);
        put(after, lease(2200));
        remove(after, lease(2019));
        after.abandon();
        assertEquals(sorted(model), reopen(dir, T0).mappings(), "appends after the crash at " + step);
    }

    private void put(JournalLeaseStore store, Mapping m) throws IOException {
        Mapping old = model.put(m.key(), m);
        store.commit(List.of(old == null ? Change.added(m, Change.Cause.REQUEST) : Change.updated(old, m, Change.Cause.REQUEST)));
    }

    private void remove(JournalLeaseStore store, Mapping m) throws IOException {
        store.commit(List.of(Change.removed(model.remove(m.key()), Change.Cause.REQUEST)));
    }
}
