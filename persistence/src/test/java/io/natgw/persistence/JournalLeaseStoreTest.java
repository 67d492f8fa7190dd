package io.natgw.persistence;

import io.natgw.conf.Protocol;
import io.natgw.core.Change;
import io.natgw.core.LeaseStore;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import io.natgw.core.RemoteFilter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
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
import static io.natgw.persistence.StoreFixture.CLOCK;
import static io.natgw.persistence.StoreFixture.add;
import static io.natgw.persistence.StoreFixture.openRecovered;
import static io.natgw.persistence.StoreFixture.reopen;
import static io.natgw.persistence.StoreFixture.sorted;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JournalLeaseStoreTest {

    @TempDir
    Path dir;

    @Test
    void anEmptyDirectoryRecoversNothing() throws IOException {
        assertEquals(LeaseStore.Recovered.empty(), reopen(dir.resolve("fresh"), T0));
        assertTrue(Files.isRegularFile(dir.resolve("fresh").resolve(JournalLeaseStore.JOURNAL)));
    }

    @Test
    void everyCommittedChangeSurvivesAKill() throws IOException {
        Mapping a = lease(2000);
        Mapping b = lease(2001);
        Mapping s = staticRow(53);
        Mapping aLater = a.withExpiry(T0.plus(Duration.ofHours(2)));
        JournalLeaseStore store = openRecovered(dir);
        add(store, a, b);
        add(store, s);
        store.commit(List.of(Change.updated(a, aLater, Change.Cause.REQUEST)));
        store.commit(List.of(Change.removed(b, Change.Cause.REQUEST)));
        store.recordState(T0.minusSeconds(30), ip("203.0.113.5"));
        store.abandon();

        assertEquals(new LeaseStore.Recovered(List.of(aLater, s), 0, T0.minusSeconds(30), ip("203.0.113.5")), reopen(dir, T0));
    }

    /**
     * A batch the dataplane refused after the journal recorded it, when its compensating batch cannot be appended:
     * {@code retract} erases the last append in place (preallocated blocks, no new space), so a kill right after
     * restores what was before it; an update's inverse puts the older lease back. Appends go on after it.
     */
    @Test
    void retractErasesTheLastCommitInPlaceAndAKillAfterItRestoresWhatWasBefore() throws IOException {
        Mapping a = lease(2000);
        Mapping aLater = a.withExpiry(T0.plus(Duration.ofHours(2)));
        Path journal = dir.resolve(JournalLeaseStore.JOURNAL);
        JournalLeaseStore store = openRecovered(dir);
        add(store, a);
        long size = Files.size(journal);
        List<Change> refused = List.of(Change.added(lease(2001), Change.Cause.REQUEST),
                Change.updated(a, aLater, Change.Cause.REQUEST));
        store.commit(refused);
        store.retract(List.of(Change.updated(aLater, a, Change.Cause.REQUEST),
                Change.removed(lease(2001), Change.Cause.REQUEST)));
        assertEquals(size, Files.size(journal), "erased in place: the file does not change size");
        store.abandon();
        assertEquals(List.of(a), reopen(dir, T0).mappings());

        JournalLeaseStore again = openRecovered(dir);
        add(again, lease(2002));
        again.abandon();
        assertEquals(List.of(a, lease(2002)), reopen(dir, T0).mappings());
    }

    @Test
    void retractRefusesWhenTheLastCommitIsNoLongerTheJournalsLastAppend() throws IOException {
        JournalLeaseStore store = openRecovered(dir);
        add(store, lease(2000));
        store.retract(List.of(Change.removed(lease(2000), Change.Cause.REQUEST)));
        IOException twice = assertThrows(IOException.class,
                () -> store.retract(List.of(Change.removed(lease(2000), Change.Cause.REQUEST))));
        assertTrue(twice.getMessage().contains("cannot be taken back"), twice.getMessage());
        store.abandon();
        assertEquals(List.of(), reopen(dir, T0).mappings(), "the one erasure stands, the refused second did nothing");
    }

    /**
     * The default store zero-fills its journal ahead of the last record, so appends overwrite space the file has:
     * after a kill the zero tail reads as the end, every acknowledged row is back, the next appends go on over the
     * zeros (the file does not grow), and a second kill loses nothing either; an append past the preallocated space
     * extends it again.
     */
    @Test
    void aPreallocatedJournalSurvivesKillsAndItsAppendsOverwriteTheZeros() throws IOException {
        Path journal = dir.resolve(JournalLeaseStore.JOURNAL);
        JournalLeaseStore store = openRecovered(dir);
        add(store, lease(2000), lease(2001));
        long size = Files.size(journal);
        assertTrue(size >= JournalLeaseStore.Tuning.PREALLOCATE, "preallocated: " + size + " bytes");
        assertEquals(0, Files.readAllBytes(journal)[(int) size - 1], "zeros after the records");
        add(store, lease(2002));
        assertEquals(size, Files.size(journal), "an append overwrites the zeros: the file keeps its size");
        store.abandon();

        assertEquals(List.of(lease(2000), lease(2001), lease(2002)), reopen(dir, T0).mappings());
        JournalLeaseStore again = openRecovered(dir);
        add(again, lease(2003));
        assertEquals(size, Files.size(journal), "appends after recovery go on over the zeros");
        again.abandon();
        assertEquals(List.of(lease(2000), lease(2001), lease(2002), lease(2003)), reopen(dir, T0).mappings());

        JournalLeaseStore small = openRecovered(dir.resolve("small"), 4096);
        for (int port = 3000; port < 3100; port++) { // about 100 bytes each: past 4 KiB several times
            add(small, lease(port));
        }
        long grown = Files.size(dir.resolve("small").resolve(JournalLeaseStore.JOURNAL));
        assertTrue(grown > 8192 && grown % 4096 == 0, "extended in whole pages past its records: " + grown);
        small.abandon();
        assertEquals(100, reopen(dir.resolve("small"), T0).mappings().size());
    }

    @Test
    void everyRecordTypeWithEveryFieldSurvivesJournalAndSnapshot() throws IOException {
        Map<MappingKey, Mapping> model = new LinkedHashMap<>();
        JournalLeaseStore store = openRecovered(dir);
        for (JournalRecord r : RecordCodecTest.everyKindOfRecord()) {
            if (r instanceof JournalRecord.Put p) {
                Mapping m = p.mapping().expiresAt() == null ? p.mapping() : p.mapping().withExpiry(Instant.MAX);
                add(store, m);
                model.put(m.key(), m);
            }
        }
        store.recordState(Instant.ofEpochSecond(1_700_000_000L, 42), ip("2001:db8::1"));
        store.abandon();
        LeaseStore.Recovered fromJournal = reopen(dir, T0);
        assertEquals(sorted(model), fromJournal.mappings());

        try (JournalLeaseStore again = JournalLeaseStore.open(dir, CLOCK)) {
            again.recover(T0);
        } // close: everything goes into the snapshot, the journal starts empty
        assertEquals(RecordCodec.HEADER_BYTES, Files.size(dir.resolve(JournalLeaseStore.JOURNAL)));
        assertEquals(fromJournal, reopen(dir, T0));
    }

    @Test
    void aChangeOfKeyMovesTheRow() throws IOException {
        Mapping before = lease(3000);
        Mapping after = new Mapping(before.protocol(), before.externalPort(), RemoteFilter.host(ip("203.0.113.7")),
                before.internal(), before.owner(), before.nonce(), before.kind(), "narrowed", before.createdAt(),
                before.expiresAt(), before.enabled());
        JournalLeaseStore store = openRecovered(dir);
        add(store, before);
        store.commit(List.of(Change.updated(before, after, Change.Cause.REQUEST)));
        store.abandon();
        assertEquals(List.of(after), reopen(dir, T0).mappings());
    }

    @Test
    void leasesThatExpiredWhileDownAreDroppedOnceAndStaticMappingsAlwaysKept() throws IOException {
        Mapping endsAtOne = lease(4000); // expires T0 + 1 h
        Mapping endsAtTwo = lease(4001).withExpiry(T0.plus(Duration.ofHours(2)));
        Mapping forever = staticRow(4002);
        JournalLeaseStore store = openRecovered(dir);
        add(store, endsAtOne, endsAtTwo, forever);
        store.abandon();

        Instant oneHourLater = T0.plus(Duration.ofHours(1)); // expiresAt <= now: gone
        LeaseStore.Recovered first = reopen(dir, oneHourLater);
        assertEquals(List.of(endsAtTwo, forever), first.mappings());
        assertEquals(1, first.expiredDropped());

        LeaseStore.Recovered second = reopen(dir, oneHourLater);
        assertEquals(List.of(endsAtTwo, forever), second.mappings());
        assertEquals(0, second.expiredDropped(), "the drop was journaled: not counted twice");

        LeaseStore.Recovered yearLater = reopen(dir, T0.plus(Duration.ofDays(365)));
        assertEquals(new LeaseStore.Recovered(List.of(forever), 1, null, null), yearLater);
    }

    @Test
    void theLastRecordedStateWinsInJournalAndSnapshot() throws IOException {
        JournalLeaseStore store = openRecovered(dir);
        store.recordState(T0, ip("203.0.113.1"));
        store.recordState(T0.plusSeconds(1), null);
        store.recordState(T0.plusSeconds(2), ip("2001:db8::2"));
        store.abandon();
        LeaseStore.Recovered r = reopen(dir, T0);
        assertEquals(T0.plusSeconds(2), r.epochStart());
        assertEquals(ip("2001:db8::2"), r.externalAddress());

        openRecovered(dir).close(); // into the snapshot
        assertEquals(r, reopen(dir, T0));
    }

    @Test
    void oneDirectoryServesOneStoreAtATime() throws IOException {
        try (JournalLeaseStore first = JournalLeaseStore.open(dir, CLOCK)) {
            IOException e = assertThrows(IOException.class, () -> JournalLeaseStore.open(dir, CLOCK));
            assertTrue(e.getMessage().contains("is in use by another natgw"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> first.commit(List.of(Change.added(lease(1), Change.Cause.REQUEST))),
                    "commit before recover");
        }
        JournalLeaseStore.open(dir, CLOCK).close(); // the lock went with the first store
    }

    @Test
    void compactsOnceTheJournalOutgrowsTheLiveRows() throws IOException {
        Map<MappingKey, Mapping> model = new LinkedHashMap<>();
        JournalLeaseStore store = JournalLeaseStore.open(dir, CLOCK, new JournalLeaseStore.Tuning(50, 2));
        store.recover(T0);
        for (int round = 0; round < 20; round++) {
            for (int port = 5000; port < 5010; port++) {
                Mapping m = lease(port).withExpiry(T0.plus(Duration.ofMinutes(60 + round)));
                Mapping old = model.put(m.key(), m);
                store.commit(List.of(old == null ? Change.added(m, Change.Cause.REQUEST) : Change.updated(old, m, Change.Cause.REQUEST)));
            }
        }
        JournalStats stats = store.stats();
        assertEquals(200, stats.records());
        assertEquals(3, stats.compactions(), "at 51, 102 and 153 records");
        assertEquals(200 - 3 * 51, stats.journalRecords());
        assertEquals(10, stats.liveMappings());
        store.abandon();
        assertFalse(Files.exists(dir.resolve(JournalLeaseStore.SNAPSHOT_TMP)));
        assertEquals(sorted(model), reopen(dir, T0).mappings());
    }

    @Test
    void aJournalWhoseSnapshotIsMissingIsRefusedNotHalfRestored() throws IOException {
        JournalLeaseStore store = openRecovered(dir);
        add(store, lease(6000));
        store.close();
        store = openRecovered(dir);
        add(store, lease(6001));
        store.abandon();
        Files.delete(dir.resolve(JournalLeaseStore.SNAPSHOT));

        try (JournalLeaseStore again = JournalLeaseStore.open(dir, CLOCK)) {
            IOException e = assertThrows(IOException.class, () -> again.recover(T0));
            assertTrue(e.getMessage().contains("continues snapshot generation 1 but there is no snapshot"), e.getMessage());
        }
    }

    @Test
    void statsCountCommitsRecordsAndFsyncs() throws IOException {
        JournalLeaseStore store = openRecovered(dir);
        long fsyncsAtStart = store.stats().fsyncs();
        add(store, lease(1), lease(2));
        add(store, lease(3));
        store.recordState(T0, null);
        JournalStats s = store.stats();
        assertEquals(3, s.commits());
        assertEquals(4, s.records());
        assertEquals(fsyncsAtStart + 3, s.fsyncs());
        assertEquals(s.fsyncs(), s.fsyncHistogram().stream().mapToLong(Long::longValue).sum());
        assertTrue(s.fsyncMaxNanos() > 0 && s.fsyncNanos() >= s.fsyncMaxNanos());
        assertTrue(s.fsyncQuantile(0.99).compareTo(Duration.ofNanos(s.fsyncMaxNanos())) >= 0
                || s.fsyncQuantile(0.99).equals(Duration.ofNanos(s.fsyncMaxNanos())));
        assertEquals(3, s.liveMappings());
        store.close();
        assertEquals(1, store.stats().compactions());
        assertNull(new JournalStats(0, 0, 0, 0, 0, 0, java.util.Collections.nCopies(JournalStats.BUCKET_BOUNDS.size() + 1, 0L),
                0, 0, 0).fsyncQuantile(0.5));
    }

    /** Records straddle the reader's buffer many times over: every one of them is read back. */
    @Test
    void journalsAndSnapshotsLargerThanTheReadBufferRestoreEveryRow() throws IOException {
        Map<MappingKey, Mapping> model = new LinkedHashMap<>();
        JournalLeaseStore store = openRecovered(dir);
        for (int batch = 0; batch < 25; batch++) {
            List<Change> changes = new java.util.ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                int n = batch * 1000 + i;
                Mapping m = lease(1024 + n).withExpiry(T0.plus(Duration.ofSeconds(3600 + n)));
                Mapping old = model.put(m.key(), m);
                changes.add(old == null ? Change.added(m, Change.Cause.REQUEST) : Change.updated(old, m, Change.Cause.REQUEST));
            }
            store.commit(changes);
        }
        store.abandon();
        assertTrue(Files.size(dir.resolve(JournalLeaseStore.JOURNAL)) > 2 * RecordCodec.MAX_BODY);
        assertEquals(sorted(model), reopen(dir, T0).mappings(), "from the journal");

        openRecovered(dir).close();
        assertTrue(Files.size(dir.resolve(JournalLeaseStore.SNAPSHOT)) > 2 * RecordCodec.MAX_BODY);
        assertEquals(sorted(model), reopen(dir, T0).mappings(), "from the snapshot");
    }

    @Test
    void aRowTooLargeToJournalIsRefusedAndTheJournalStaysUsable() throws IOException {
        JournalLeaseStore store = openRecovered(dir);
        Mapping huge = lease(8000);
        Mapping tooBig = new Mapping(huge.protocol(), huge.externalPort(), huge.remote(), huge.internal(), huge.owner(),
                huge.nonce(), huge.kind(), "d".repeat(RecordCodec.MAX_BODY), huge.createdAt(), huge.expiresAt(), true);
        IOException e = assertThrows(IOException.class, () -> add(store, lease(8001), tooBig));
        assertTrue(e.getMessage().contains("is larger than " + RecordCodec.MAX_BODY), e.getMessage());
        add(store, lease(8002));
        store.abandon();
        assertEquals(List.of(lease(8002)), reopen(dir, T0).mappings(), "the refused batch left nothing behind");
    }

    @Test
    void aRowOfUdpAndTcpOnTheSamePortAreTwoRows() throws IOException {
        Mapping tcp = lease(7000);
        Mapping udp = new Mapping(Protocol.UDP, 7000, tcp.remote(), tcp.internal(), tcp.owner(), tcp.nonce(), tcp.kind(),
                tcp.description(), tcp.createdAt(), tcp.expiresAt(), tcp.enabled());
        JournalLeaseStore store = openRecovered(dir);
        add(store, tcp, udp);
        store.commit(List.of(Change.removed(tcp, Change.Cause.EXPIRED)));
        store.abandon();
        assertEquals(List.of(udp), reopen(dir, T0).mappings());
    }
}
