package io.natgw.persistence;

import io.natgw.core.Change;
import io.natgw.core.LeaseStore;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The durable {@link LeaseStore}: an append-only journal of CRC-checked records, one {@code fsync} per
 * committed batch, and snapshots that compact it.
 *
 * <p>Files in the data directory: {@code snapshot.bin} (every live row and the state as of the start of
 * generation G) and {@code journal.bin} (the changes since, generation G). A compaction writes
 * {@code snapshot.tmp} and {@code journal.tmp} for generation G+1, syncs both, renames the snapshot into
 * place (the commit point) and then the journal. Recovery ignores a journal older than the snapshot, so a
 * crash at any step restores the same rows. {@code lock} keeps a second process out of the directory.
 *
 * <p>Called from the table's single writer thread; {@link #stats()} from any thread.
 */
public final class JournalLeaseStore implements LeaseStore {

    private static final Logger log = LoggerFactory.getLogger(JournalLeaseStore.class);

    static final String JOURNAL = DataFiles.JOURNAL;
    static final String SNAPSHOT = DataFiles.SNAPSHOT;
    static final String JOURNAL_TMP = DataFiles.JOURNAL_TMP;
    static final String SNAPSHOT_TMP = DataFiles.SNAPSHOT_TMP;

    /**
     * When to compact: once the journal holds more than {@code minRecords} records and more than
     * {@code liveFactor} times the live rows (so compaction costs O(1) per record), and on close.
     */
    public record Tuning(int minRecords, int liveFactor) {
        public static final Tuning DEFAULT = new Tuning(10_000, 4);

        public Tuning {
            if (minRecords < 0 || liveFactor < 1) {
                throw new IllegalArgumentException("compaction tuning " + minRecords + "/" + liveFactor
                        + " (accepted: minRecords >= 0, liveFactor >= 1)");
            }
        }
    }

    private final Path dir;
    private final DataFiles files;
    private final Tuning tuning;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final JournalStats.Recorder stats = new JournalStats.Recorder();
    private final Sink out = new Sink(64 * 1024);

    private final Map<MappingKey, Mapping> live = new HashMap<>();
    private Instant epochStart;
    private InetAddress externalAddress;

    private FileChannel journal;
    private long journalSize;
    private long generation;
    private volatile long journalRecords;
    private volatile int liveCount;
    private long compactionRetryAt;
    private boolean recovered;
    private boolean closed;
    /** Set when the journal can no longer be trusted to append; every later commit fails with it. */
    private IOException broken;
    private Consumer<CompactionStep> crashHook = step -> { };

    private JournalLeaseStore(Path dir, Clock clock, Tuning tuning, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.files = new DataFiles(dir, clock, stats);
        this.tuning = tuning;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /** Opens (creating) the data directory and takes its lock; {@link #recover} reads it. */
    public static JournalLeaseStore open(Path dataDir, Clock clock) throws IOException {
        return open(dataDir, clock, Tuning.DEFAULT);
    }

    public static JournalLeaseStore open(Path dataDir, Clock clock, Tuning tuning) throws IOException {
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(tuning, "tuning");
        Path dir = dataDir.toAbsolutePath();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            DataFiles.syncDirectory(dir.getParent()); // a new directory's own entry must be durable too
        }
        FileChannel lockChannel = FileChannel.open(dir.resolve(DataFiles.LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            lockChannel.close();
            throw new IOException("data directory " + dir + " is in use by another natgw (" + dir.resolve(DataFiles.LOCK) + " is locked)");
        }
        return new JournalLeaseStore(dir, clock, tuning, lockChannel, lock);
    }

    public Path directory() {
        return dir;
    }

    /** Figures for metrics; safe from any thread. */
    public JournalStats stats() {
        return stats.snapshot(liveCount, journalRecords);
    }

    @Override
    public synchronized Recovered recover(Instant now) throws IOException {
        checkOpen();
        if (recovered) {
            throw new IllegalStateException("recover() was called already");
        }
        files.deleteIfExists(SNAPSHOT_TMP); // a compaction that never reached its commit point
        files.deleteIfExists(JOURNAL_TMP);
        SnapshotRead snapshot = readSnapshot();
        long replayed = openJournal(snapshot.generation());
        List<Mapping> expired = dropExpired(now);
        recovered = true;
        if (!expired.isEmpty()) {
            // journaled, so that the next recovery neither restores nor counts them again
            append(expired.stream().map(m -> (JournalRecord) new JournalRecord.Remove(m.key())).toList());
        }
        liveCount = live.size();
        log.info("recovered {} mappings from {} (snapshot generation {}: {} rows, journal: {} records, {} expired leases dropped)",
                live.size(), dir, snapshot.generation(), snapshot.rows(), replayed, expired.size());
        if (snapshot.damaged()) {
            compactQuietly("the snapshot was damaged");
        } else {
            maybeCompact();
        }
        List<Mapping> rows = new ArrayList<>(live.values());
        rows.sort((a, b) -> a.key().compareTo(b.key()));
        return new Recovered(rows, expired.size(), epochStart, externalAddress);
    }

    private record SnapshotRead(long generation, int rows, boolean damaged) {
    }

    /** Loads {@code snapshot.bin} into the mirror; generation 0 when there is none yet. */
    private SnapshotRead readSnapshot() throws IOException {
        Path path = dir.resolve(SNAPSHOT);
        if (!Files.exists(path)) {
            return new SnapshotRead(0, 0, false);
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long gen = DataFiles.readHeader(ch, path, RecordCodec.FileType.SNAPSHOT).generation();
            Replay r = replay(ch);
            boolean damaged = !(r.stop() instanceof RecordReader.End);
            if (damaged) {
                log.warn("snapshot {}: {}; restored the {} records before it and dropped {} (a snapshot is synced"
                        + " before it is renamed, so the disk lost data)", path, describe(r.stop()), r.records(),
                        droppedFrom(ch, r.stop()));
            }
            return new SnapshotRead(gen, live.size(), damaged);
        }
    }

    /**
     * Replays {@code journal.bin} when it continues the snapshot, and keeps it open for appending; starts a new
     * journal when there is none or a compaction superseded it. Returns the records replayed.
     */
    private long openJournal(long snapshotGeneration) throws IOException {
        Path path = dir.resolve(JOURNAL);
        if (Files.exists(path)) {
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            try {
                long gen = DataFiles.readHeader(ch, path, RecordCodec.FileType.JOURNAL).generation();
                if (gen == snapshotGeneration) {
                    Replay r = replay(ch);
                    journalSize = endOfReplay(ch, path, r);
                    journal = ch;
                    generation = gen;
                    return r.records();
                }
                if (gen > snapshotGeneration) {
                    throw new IOException("journal " + path + " continues snapshot generation " + gen + " but "
                            + (snapshotGeneration == 0 ? "there is no snapshot" : "the snapshot is generation " + snapshotGeneration)
                            + ": the rows it builds on are lost. Move " + dir + " aside to start with an empty table.");
                }
                log.info("journal {} (generation {}) is superseded by snapshot generation {}: a compaction was"
                        + " interrupted after its commit point; starting the next journal", path, gen, snapshotGeneration);
            } finally {
                if (journal != ch) {
                    ch.close();
                }
            }
        }
        startJournal(snapshotGeneration);
        return 0;
    }

    private List<Mapping> dropExpired(Instant now) {
        List<Mapping> expired = new ArrayList<>();
        for (Mapping m : live.values()) {
            if (m.expiredAt(now)) {
                expired.add(m);
            }
        }
        expired.forEach(m -> live.remove(m.key()));
        return expired;
    }

    @Override
    public synchronized void commit(List<Change> changes) throws IOException {
        checkWritable();
        if (changes.isEmpty()) {
            return;
        }
        List<JournalRecord> records = new ArrayList<>(changes.size());
        for (Change c : changes) {
            switch (c.type()) {
                case ADDED -> records.add(new JournalRecord.Put(c.after()));
                case UPDATED -> {
                    if (!c.before().key().equals(c.after().key())) {
                        records.add(new JournalRecord.Remove(c.before().key()));
                    }
                    records.add(new JournalRecord.Put(c.after()));
                }
                case REMOVED -> records.add(new JournalRecord.Remove(c.before().key()));
            }
        }
        append(records);
        maybeCompact();
    }

    @Override
    public synchronized void recordState(Instant epochStart, InetAddress externalAddress) throws IOException {
        checkWritable();
        append(List.of(new JournalRecord.State(epochStart, externalAddress)));
    }

    /** Writes a snapshot (when the journal holds anything since the last) and releases the directory. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            if (recovered && broken == null && journalRecords > 0) {
                compactQuietly("closing");
            }
        } finally {
            closed = true;
            closeFiles();
        }
    }

    // ---- writing ----

    /** Encodes the records, writes them with one write and one fsync, then applies them to the mirror. */
    private void append(List<JournalRecord> records) throws IOException {
        out.clear();
        for (JournalRecord r : records) {
            try {
                RecordCodec.append(r, out);
            } catch (IllegalArgumentException e) { // nothing written yet: refuse the batch, the journal stays usable
                throw new IOException("cannot journal " + r + ": " + e.getMessage(), e);
            }
        }
        ByteBuffer bytes = out.written();
        int length = bytes.remaining();
        try {
            DataFiles.write(journal, bytes, journalSize);
            files.force(journal);
        } catch (IOException e) {
            failAppend(e);
            throw e;
        }
        journalSize += length;
        for (JournalRecord r : records) {
            apply(r);
        }
        journalRecords += records.size();
        liveCount = live.size();
        stats.commit(records.size(), length);
    }

    /**
     * A failed write or fsync may have left part of the batch on disk (and Linux may have dropped the dirty
     * pages): cut the journal back to before the batch, and refuse further appends since its state is unsure.
     */
    private void failAppend(IOException e) {
        broken = new IOException("the journal " + dir.resolve(JOURNAL) + " failed to append (" + e.getMessage()
                + "); refusing changes until natgw restarts", e);
        try {
            journal.truncate(journalSize);
            journal.force(false);
        } catch (IOException again) {
            e.addSuppressed(again);
        }
        log.error("journal {}: append failed at offset {} ({}); further changes are refused until restart",
                dir.resolve(JOURNAL), journalSize, e.toString());
    }

    private void apply(JournalRecord r) {
        if (r instanceof JournalRecord.Put p) {
            live.put(p.mapping().key(), p.mapping());
        } else if (r instanceof JournalRecord.Remove rm) {
            live.remove(rm.key());
        } else if (r instanceof JournalRecord.State s) {
            epochStart = s.epochStart();
            externalAddress = s.externalAddress();
        }
    }

    // ---- compaction ----

    private void maybeCompact() {
        long records = journalRecords;
        if (records > tuning.minRecords() && records > (long) tuning.liveFactor() * live.size() && records >= compactionRetryAt) {
            compactQuietly(records + " journal records for " + live.size() + " live rows");
        }
    }

    /** Compacts; a failure before the commit point leaves the old journal in use and is retried later. */
    private void compactQuietly(String why) {
        try {
            compact(why);
        } catch (IOException e) {
            compactionRetryAt = journalRecords + Math.max(tuning.minRecords(), 1);
            log.warn("compaction of {} failed ({}); {}", dir, e.toString(),
                    broken == null ? "keeping the current journal" : "refusing changes until natgw restarts");
        }
    }

    private void compact(String why) throws IOException {
        long next = generation + 1;
        FileChannel fresh = null;
        try {
            JournalRecord.State state = epochStart == null ? null : new JournalRecord.State(epochStart, externalAddress);
            files.writeSnapshot(SNAPSHOT_TMP, next, state, live.values());
            crashHook.accept(CompactionStep.SNAPSHOT_WRITTEN);
            fresh = files.createJournal(JOURNAL_TMP, next);
            crashHook.accept(CompactionStep.JOURNAL_WRITTEN);
            files.rename(SNAPSHOT_TMP, SNAPSHOT); // the commit point
        } catch (IOException e) {
            try {
                if (fresh != null) {
                    fresh.close();
                }
                files.deleteIfExists(JOURNAL_TMP);
                files.deleteIfExists(SNAPSHOT_TMP);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        // Committed: snapshot.bin is generation `next`, so the old journal must never be appended to again.
        try {
            files.syncDirectory();
            crashHook.accept(CompactionStep.SNAPSHOT_RENAMED);
            files.replace(JOURNAL_TMP, JOURNAL);
        } catch (IOException e) {
            fresh.close();
            broken = new IOException("compaction of " + dir + " failed after its snapshot was renamed (" + e.getMessage()
                    + "); refusing changes until natgw restarts", e);
            throw e;
        }
        long before = journalRecords;
        journal.close();
        journal = fresh;
        journalSize = RecordCodec.HEADER_BYTES;
        generation = next;
        journalRecords = 0;
        compactionRetryAt = 0;
        stats.compaction();
        crashHook.accept(CompactionStep.JOURNAL_RENAMED);
        log.info("compacted {}: snapshot generation {} holds {} mappings, replacing {} journal records ({})",
                dir, next, live.size(), before, why);
    }

    private void startJournal(long gen) throws IOException {
        FileChannel ch = files.createJournal(JOURNAL_TMP, gen);
        try {
            files.replace(JOURNAL_TMP, JOURNAL);
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        journal = ch;
        journalSize = RecordCodec.HEADER_BYTES;
        generation = gen;
        journalRecords = 0;
    }

    private record Replay(long records, RecordReader.Step stop) {
    }

    private Replay replay(FileChannel ch) throws IOException {
        RecordReader reader = new RecordReader(ch, RecordCodec.HEADER_BYTES);
        long records = 0;
        while (true) {
            RecordReader.Step step = reader.next();
            if (step instanceof RecordReader.Read read) {
                apply(read.record());
                records++;
            } else {
                return new Replay(records, step);
            }
        }
    }

    /** Where appends continue after replaying the journal: cuts off a torn tail or everything from a corrupt record. */
    private long endOfReplay(FileChannel ch, Path path, Replay r) throws IOException {
        RecordReader.Step stop = r.stop();
        if (stop instanceof RecordReader.End end) {
            journalRecords = r.records();
            return end.offset();
        }
        long size = ch.size();
        long at;
        if (stop instanceof RecordReader.Torn torn) {
            at = torn.offset();
            log.info("journal {}: dropped an incomplete last record at offset {} ({}), truncated to {} bytes",
                    path, at, torn.what(), at);
        } else if (RecordReader.onlyZerosFrom(ch, ((RecordReader.Corrupt) stop).offset(), size)) {
            at = ((RecordReader.Corrupt) stop).offset();
            log.info("journal {}: dropped a zero-filled tail of {} bytes at offset {} (an append the disk never completed),"
                    + " truncated to {} bytes", path, size - at, at, at);
        } else {
            RecordReader.Corrupt corrupt = (RecordReader.Corrupt) stop;
            at = corrupt.offset();
            log.warn("journal {}: record {} at offset {} is corrupt: {}; replay stopped there, dropping {} ({} bytes);"
                    + " the journal is truncated to {} bytes", path, r.records() + 1, at, corrupt.what(),
                    droppedFrom(ch, stop), size - at, at);
        }
        ch.truncate(at);
        files.force(ch);
        journalRecords = r.records();
        return at;
    }

    private static String describe(RecordReader.Step stop) {
        if (stop instanceof RecordReader.Torn t) {
            return "incomplete record at offset " + t.offset() + " (" + t.what() + ")";
        }
        RecordReader.Corrupt c = (RecordReader.Corrupt) stop;
        return "corrupt record at offset " + c.offset() + ": " + c.what();
    }

    private static String droppedFrom(FileChannel ch, RecordReader.Step stop) throws IOException {
        long offset = stop instanceof RecordReader.Torn t ? t.offset() : ((RecordReader.Corrupt) stop).offset();
        long n = RecordReader.countFrom(ch, offset, ch.size());
        return n == 1 ? "1 record" : n + " records";
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the store of " + dir + " is closed");
        }
    }

    private void checkWritable() throws IOException {
        checkOpen();
        if (!recovered) {
            throw new IllegalStateException("recover() must be called before changes are committed");
        }
        if (broken != null) {
            throw broken;
        }
    }

    private void closeFiles() throws IOException {
        IOException first = null;
        for (AutoCloseable c : new AutoCloseable[] {journal, lock, lockChannel}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        if (first != null) {
            throw first;
        }
    }

    // ---- for crash tests in this package ----

    /** Makes a compaction stop dead at {@code step} by throwing {@code crash} there, as a kill would. */
    synchronized void crashAt(CompactionStep step, RuntimeException crash) {
        crashHook = s -> {
            if (s == step) {
                throw crash;
            }
        };
    }

    /** Lets go of the files without writing anything, as a killed process would. */
    synchronized void abandon() throws IOException {
        closed = true;
        closeFiles();
    }
}
