package io.natgw.persistence;

import io.natgw.core.Change;
import io.natgw.core.LeaseStore;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Helpers shared by the store's tests: open/recover/commit in one line, and a model of what must survive. */
final class StoreFixture {

    static final Clock CLOCK = Clock.fixed(Rows.T0, ZoneOffset.UTC);

    private StoreFixture() {
    }

    static JournalLeaseStore openRecovered(Path dir) throws IOException {
        JournalLeaseStore store = JournalLeaseStore.open(dir, CLOCK);
        store.recover(Rows.T0);
        return store;
    }

    /** With {@code preallocateBytes} of zeros kept ahead of the last record (0: none, the file ends at it). */
    static JournalLeaseStore openRecovered(Path dir, int preallocateBytes) throws IOException {
        JournalLeaseStore store = JournalLeaseStore.open(dir, CLOCK,
                new JournalLeaseStore.Tuning(JournalLeaseStore.Tuning.DEFAULT.minRecords(),
                        JournalLeaseStore.Tuning.DEFAULT.liveFactor(), preallocateBytes));
        store.recover(Rows.T0);
        return store;
    }

    static LeaseStore.Recovered reopen(Path dir, Instant now) throws IOException {
        try (JournalLeaseStore store = JournalLeaseStore.open(dir, CLOCK)) {
            LeaseStore.Recovered r = store.recover(now);
            store.abandon(); // leave the files exactly as recovery left them
            return r;
        }
    }

    static void add(JournalLeaseStore store, Mapping... rows) throws IOException {
        List<Change> changes = new ArrayList<>();
        for (Mapping m : rows) {
            changes.add(Change.added(m, Change.Cause.REQUEST));
        }
        store.commit(changes);
    }

    /** The rows in listing order, as {@link LeaseStore.Recovered#mappings()} gives them. */
    static List<Mapping> sorted(Map<MappingKey, Mapping> model) {
        return List.copyOf(new TreeMap<>(model).values());
    }

    static byte[] journalBytes(Path dir) throws IOException {
        return Files.readAllBytes(dir.resolve(JournalLeaseStore.JOURNAL));
    }
}
