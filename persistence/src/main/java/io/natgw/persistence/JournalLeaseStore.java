package io.natgw.persistence;

import io.natgw.core.Change;
import io.natgw.core.LeaseStore;
import io.natgw.core.Mapping;
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
import java.nio.file.attribute.PosixFilePermission;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The durable {@link LeaseStore}: an append-only journal of CRC-checked records, one {@code fsync} per
 * committed batch, and snapshots that compact it.
 *
 * <p>Files in the data directory (each 0600): {@code snapshot.bin} (every live row and the state as of the start
 * of generation G) and {@code journal.bin} (the changes since, generation G); {@link Recovery} reads them and
 * {@link Compactor} writes the next generation. {@code lock} keeps a second process out of the directory.
 *
 * <p>A failed append (a full disk) is cut off again and refused; the next append first rewrites the files from the
 * mirror (a compaction), so writes resume by themselves once there is room, on files known to be whole.
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
     *
     * <p>{@code preallocateBytes}: the journal is zero-filled this far ahead of its last record (0: never), so an
     * append overwrites space the file already has. On ext4 an fdatasync that must also make a new file size durable
     * commits the file system's metadata journal, shared with every other writer of the disk: measured here, p99
     * 2.2 ms against 0.2 ms when overwriting (bench/README.md). Recovery reads a zero tail as the end.
     */
    public record Tuning(int minRecords, int liveFactor, int preallocateBytes) {
        public static final int PREALLOCATE = 1 << 20;
        public static final Tuning DEFAULT = new Tuning(10_000, 4, PREALLOCATE);

        public Tuning(int minRecords, int liveFactor) {
            this(minRecords, liveFactor, PREALLOCATE);
        }

        public Tuning {
            if (minRecords < 0 || liveFactor < 1 || preallocateBytes < 0) {
                throw new IllegalArgumentException("journal tuning " + minRecords + "/" + liveFactor + "/" + preallocateBytes
                        + " (accepted: minRecords >= 0, liveFactor >= 1, preallocateBytes >= 0)");
            }
        }
    }

    private final Path dir;
    private final Clock clock;
    private final DataFiles files;
    private final Tuning tuning;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final JournalStats.Recorder stats = new JournalStats.Recorder();
    private final Sink out = new Sink(64 * 1024);
    private final Mirror mirror = new Mirror();

    private FileChannel journal;
    /** Where the next record goes: the end of the last one. */
    private long journalSize;
    /** The journal file's size: records up to {@link #journalSize}, zeros after (preallocated). */
    private long journalAllocated;
    /** Whether the last preallocation failed (said once at WARN until one succeeds again). */
    private boolean preallocationFailing;
    private long generation;
    private volatile long journalRecords;
    /** Where the last successful append began, and its record count ({@link #retract}); -1 once compacted or erased. */
    private long lastAppendStart = -1;
    private int lastAppendRecords;
    private volatile int liveCount;
    private long compactionRetryAt;
    private boolean recovered;
    private boolean closed;
    /** Why the files on disk may not be whole (a failed append or compaction): the next append rewrites them first. */
    private IOException rewriteNeeded;
    private Consumer<CompactionStep> crashHook = step -> { };
    private JournalFault fault;
    private int faultsLeft;

    private JournalLeaseStore(Path dir, Clock clock, Tuning tuning, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.clock = clock;
        this.files = new DataFiles(dir, clock, stats);
        this.tuning = tuning;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /** Opens (creating) the data directory and takes its lock; {@link #recover} reads it. Errors name the path. */
    public static JournalLeaseStore open(Path dataDir, Clock clock) throws IOException {
        return open(dataDir, clock, Tuning.DEFAULT);
    }

    public static JournalLeaseStore open(Path dataDir, Clock clock, Tuning tuning) throws IOException {
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(tuning, "tuning");
        Path dir = dataDir.toAbsolutePath();
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IOException("data directory " + dir + " is not a directory (set dataDir to a directory natgw may"
                    + " create or write)");
        }
        if (!Files.isDirectory(dir)) {
            try {
                Files.createDirectories(dir);
                DataFiles.syncDirectory(dir.getParent()); // a new directory's own entry must be durable too
            } catch (IOException e) {
                throw new IOException("data directory " + dir + " cannot be created: " + describe(e), e);
            }
        }
        warnIfOpen(dir);
        FileChannel lockChannel;
        try {
            lockChannel = DataFiles.open(dir.resolve(DataFiles.LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new IOException("data directory " + dir + " is not writable: " + describe(e), e);
        }
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

    /** A data directory others may write to lets them rewrite the leases: said once at start. */
    private static void warnIfOpen(Path dir) {
        try {
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(dir);
            if (p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE)) {
                log.warn("data directory {} is writable by others ({}): anyone who can write it can change the leases;"
                        + " chmod 700 it", dir, java.nio.file.attribute.PosixFilePermissions.toString(p));
            }
        } catch (IOException | UnsupportedOperationException e) {
            // no POSIX permissions here: nothing to check
        }
    }

    /** An I/O error's text with the file it concerns (a file system exception's message may be the path alone). */
    static String describe(IOException e) {
        if (e instanceof java.nio.file.FileSystemException f) {
            String reason = f.getReason() != null ? f.getReason() : e.getClass().getSimpleName();
            return (f.getFile() != null ? f.getFile() + ": " : "") + reason;
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
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
        Recovery.Result r;
        try {
            r = new Recovery(files, mirror, clock.millis()).run();
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains(dir.toString())) {
                throw e;
            }
            throw new IOException("data directory " + dir + ": cannot recover the leases: " + describe(e), e);
        }
        journal = r.journal();
        journalSize = r.journalSize();
        journalAllocated = Math.max(journalSize, journal.size());
        generation = r.generation();
        journalRecords = r.journalRecords();
        List<Mapping> expired = dropExpired(now);
        recovered = true;
        if (!expired.isEmpty()) {
            // journaled, so that the next recovery neither restores nor counts them again
            append(expired.stream().map(m -> (JournalRecord) new JournalRecord.Remove(m.key())).toList());
        }
        liveCount = mirror.live.size();
        log.info("recovered {} mappings from {} (snapshot generation {}: {} rows, journal: {} records, {} expired leases dropped)",
                mirror.live.size(), dir, r.generation(), r.snapshotRows(), r.journalRecords(), expired.size());
        for (String why : mirror.obsolete) {
            log.warn("{}: not restored: {}", dir, why);
        }
        if (r.rewrite()) {
            compactQuietly("damaged records were dropped");
        } else if (r.olderFormat()) {
            compactQuietly("files of an older format are rewritten in format " + RecordCodec.VERSION);
        } else {
            maybeCompact();
        }
        List<Mapping> rows = new ArrayList<>(mirror.live.values());
        rows.sort((a, b) -> a.key().compareTo(b.key()));
        return new Recovered(rows, expired.size(), mirror.epochStart, mirror.externalAddress);
    }

    private List<Mapping> dropExpired(Instant now) {
        List<Mapping> expired = new ArrayList<>();
        for (Mapping m : mirror.live.values()) {
            if (m.expiredAt(now)) {
                expired.add(m);
            }
        }
        expired.forEach(m -> mirror.live.remove(m.key()));
        return expired;
    }

    @Override
    public synchronized void commit(List<Change> changes) throws IOException {
        checkWritable();
        if (changes.isEmpty()) {
            return;
        }
        append(records(changes));
        maybeCompact();
    }

    private static List<JournalRecord> records(List<Change> changes) {
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
        return records;
    }

    /**
     * Erases the last append's records in place (zeros over them, then an fdatasync: the blocks are already the
     * file's, so a full disk does not stop it) and applies {@code inverse} to the mirror: a restart reads the journal
     * up to where that append began. Refused when the last commit is no longer the journal's last append (compacted
     * into a snapshot since, or erased already). A failure leaves the erasure unknown, so the next append first
     * rewrites the files from the mirror (which still holds the batch: the table journals {@code inverse} then).
     */
    @Override
    public synchronized void retract(List<Change> inverse) throws IOException {
        checkOpen();
        if (lastAppendStart < 0) {
            throw new IOException("journal " + dir.resolve(JOURNAL) + ": the last commit cannot be taken back (it was "
                    + "compacted into the snapshot)");
        }
        List<JournalRecord> records = records(inverse);
        long from = lastAppendStart;
        try {
            if (faultsLeft > 0) {
                faultsLeft--;
                throw new IOException(fault instanceof JournalFault.Write w ? w.reason() : ((JournalFault.Sync) fault).reason());
            }
            DataFiles.writeZeros(journal, from, journalSize);
            files.force(journal);
        } catch (IOException e) {
            rewriteNeeded = e;
            throw new IOException("journal " + dir.resolve(JOURNAL) + ": cannot erase the last " + lastAppendRecords
                    + " records: " + describe(e), e);
        }
        log.warn("journal {}: the last batch ({} records at offset {}) erased: the dataplane refused it and its "
                + "compensating batch could not be appended", dir.resolve(JOURNAL), lastAppendRecords, from);
        journalSize = from;
        journalRecords -= lastAppendRecords;
        lastAppendStart = -1;
        for (JournalRecord r : records) {
            mirror.apply(r);
        }
        liveCount = mirror.live.size();
    }

    @Override
    public synchronized void recordState(Instant epochStart, InetAddress externalAddress) throws IOException {
        checkWritable();
        append(List.of(new JournalRecord.State(epochStart, externalAddress)));
    }

    /** Writes a snapshot (when the journal holds anything since the last, or may be damaged) and releases the directory. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            if (recovered && (rewriteNeeded != null || journalRecords > 0)) {
                compactQuietly("closing");
            }
        } finally {
            closed = true;
            closeFiles();
        }
    }

    // ---- writing ----

    /**
     * Encodes the records, writes them with one write and one fsync, then applies them to the mirror. After an
     * earlier failure the files are first rewritten from the mirror; if that fails too, this append is refused.
     */
    private void append(List<JournalRecord> records) throws IOException {
        out.clear();
        for (JournalRecord r : records) {
            try {
                RecordCodec.append(r, out);
            } catch (IllegalArgumentException e) { // nothing written yet: refuse the batch, the journal stays usable
                throw new IOException("cannot journal " + r + ": " + e.getMessage(), e);
            }
        }
        if (rewriteNeeded != null) {
            try {
                compact("the journal failed before (" + rewriteNeeded.getMessage() + ")");
            } catch (IOException e) {
                throw new IOException("journal " + dir.resolve(JOURNAL) + " cannot be written: " + describe(e), e);
            }
        }
        ByteBuffer bytes = out.written();
        int length = bytes.remaining();
        if (journalSize + length > journalAllocated) {
            preallocate(journalSize + length); // best effort: on failure the append grows the file as it goes
        }
        try {
            if (faultsLeft > 0) {
                faultsLeft--;
                inject(fault, bytes);
            }
            DataFiles.write(journal, bytes, journalSize);
            files.force(journal);
        } catch (IOException e) {
            failAppend(e);
            throw new IOException("journal " + dir.resolve(JOURNAL) + ": cannot append " + records.size() + " records: "
                    + describe(e), e);
        }
        lastAppendStart = journalSize;
        lastAppendRecords = records.size();
        journalSize += length;
        journalAllocated = Math.max(journalAllocated, journalSize);
        for (JournalRecord r : records) {
            mirror.apply(r);
        }
        journalRecords += records.size();
        liveCount = mirror.live.size();
        stats.commit(records.size(), length);
    }

    /**
     * A failed write or fsync may have left part of the batch on disk (and Linux may have dropped the dirty
     * pages): cut the journal back to before the batch, and rewrite the files before the next append.
     */
    private void failAppend(IOException e) {
        rewriteNeeded = e;
        try {
            journal.truncate(journalSize);
            journal.force(false);
            journalAllocated = journalSize;
        } catch (IOException again) {
            e.addSuppressed(again);
        }
        log.error("journal {}: append failed at offset {} ({}); the next change rewrites it from memory first",
                dir.resolve(JOURNAL), journalSize, describe(e));
    }

    /**
     * Zero-fills the journal from its current end to {@code end} plus {@link Tuning#preallocateBytes}, in the page
     * cache: the append that follows makes the zeros and the new size durable with its own fsync, and the appends
     * after it overwrite them (an fdatasync with no size to record). A failure (a full disk) cuts the file back to
     * where it was, and the append goes on without: whether it fits decides, as before, whether it is granted.
     */
    private void preallocate(long end) {
        int step = tuning.preallocateBytes();
        if (step == 0) {
            return;
        }
        long target = (end + step + 4095) & ~4095L;
        try {
            DataFiles.writeZeros(journal, journalAllocated, target);
            journalAllocated = target;
            if (preallocationFailing) {
                preallocationFailing = false;
                log.info("journal {}: preallocating again", dir.resolve(JOURNAL));
            }
        } catch (IOException e) {
            try {
                journal.truncate(journalAllocated);
            } catch (IOException again) {
                e.addSuppressed(again); // zeros after the last record are read as the journal's end: harmless
            }
            if (!preallocationFailing) {
                preallocationFailing = true;
                log.warn("journal {}: cannot preallocate {} bytes ({}); appending without, which syncs slower",
                        dir.resolve(JOURNAL), target - journalAllocated, describe(e));
            }
        }
    }

    // ---- compaction ----

    private void maybeCompact() {
        long records = journalRecords;
        if (records > tuning.minRecords() && records > (long) tuning.liveFactor() * mirror.live.size()
                && records >= compactionRetryAt) {
            compactQuietly(records + " journal records for " + mirror.live.size() + " live rows");
        }
    }

    /** Compacts; a failure leaves the current journal in use (or marks it for a rewrite) and is retried later. */
    private void compactQuietly(String why) {
        try {
            compact(why);
        } catch (IOException e) {
            compactionRetryAt = journalRecords + Math.max(tuning.minRecords(), 1);
            log.warn("compaction of {} failed ({}); {}", dir, describe(e),
                    rewriteNeeded == null ? "keeping the current journal" : "the next change tries again");
        }
    }

    private void compact(String why) throws IOException {
        Compactor.Compacted c;
        try {
            c = Compactor.compact(files, mirror, generation + 1, crashHook);
        } catch (Compactor.AfterCommitPoint e) {
            // snapshot.bin is the next generation: the old journal must never be appended to again
            rewriteNeeded = e;
            throw e;
        }
        long before = journalRecords;
        journal.close();
        journal = c.journal();
        journalSize = RecordCodec.HEADER_BYTES;
        journalAllocated = journalSize;
        generation = c.generation();
        journalRecords = 0;
        lastAppendStart = -1;
        compactionRetryAt = 0;
        rewriteNeeded = null;
        stats.compaction();
        crashHook.accept(CompactionStep.JOURNAL_RENAMED);
        log.info("compacted {}: snapshot generation {} holds {} mappings, replacing {} journal records ({})",
                dir, generation, mirror.live.size(), before, why);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the store of " + dir + " is closed");
        }
    }

    private void checkWritable() {
        checkOpen();
        if (!recovered) {
            throw new IllegalStateException("recover() must be called before changes are committed");
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

    /** Makes the next {@code count} appends meet {@code f}. */
    synchronized void failAppends(int count, JournalFault f) {
        fault = f;
        faultsLeft = count;
    }

    private void inject(JournalFault f, ByteBuffer bytes) throws IOException {
        if (f instanceof JournalFault.Write w) {
            ByteBuffer half = bytes.duplicate();
            half.limit(half.position() + half.remaining() / 2);
            DataFiles.write(journal, half, journalSize);
            throw new IOException(w.reason());
        }
        DataFiles.write(journal, bytes.duplicate(), journalSize);
        throw new IOException(((JournalFault.Sync) f).reason());
    }

    /** Lets go of the files without writing anything, as a killed process would. */
    synchronized void abandon() throws IOException {
        closed = true;
        closeFiles();
    }
}
