package io.natgw.persistence;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Reads a data directory back into a {@link Mirror}: the snapshot, then the journal that continues it. A torn
 * last record (an append a crash cut short) is cut off. A damaged record elsewhere loses only itself: the damaged
 * file is first copied aside ({@code journal.bin.corrupt-<millis>}), replay resumes at the next intact record,
 * and the store then rewrites the files ({@link Result#rewrite}).
 */
final class Recovery {

    private static final Logger log = LoggerFactory.getLogger(JournalLeaseStore.class);

    /** What recovery left open and found. */
    record Result(FileChannel journal, long journalSize, long generation, long journalRecords, int snapshotRows,
                  boolean rewrite, boolean olderFormat) {
    }

    /** Whether a file read was of an older format than {@link RecordCodec#VERSION} (the store then rewrites it). */
    private boolean olderFormat;

    private final Path dir;
    private final DataFiles files;
    private final Mirror mirror;
    private final long nowMillis;

    Recovery(DataFiles files, Mirror mirror, long nowMillis) {
        this.dir = files.dir();
        this.files = files;
        this.mirror = mirror;
        this.nowMillis = nowMillis;
    }

    Result run() throws IOException {
        files.deleteIfExists(DataFiles.SNAPSHOT_TMP); // a compaction that never reached its commit point
        files.deleteIfExists(DataFiles.JOURNAL_TMP);
        files.tighten(DataFiles.SNAPSHOT);
        files.tighten(DataFiles.JOURNAL);
        SnapshotRead snapshot = readSnapshot();
        Result journal = openJournal(snapshot.generation(), snapshot.rows());
        if (snapshot.damaged()) {
            return new Result(journal.journal(), journal.journalSize(), journal.generation(), journal.journalRecords(),
                    snapshot.rows(), true, olderFormat);
        }
        return new Result(journal.journal(), journal.journalSize(), journal.generation(), journal.journalRecords(),
                journal.snapshotRows(), journal.rewrite(), olderFormat);
    }

    private record SnapshotRead(long generation, int rows, boolean damaged) {
    }

    /** Loads {@code snapshot.bin} into the mirror; generation 0 when there is none yet. */
    private SnapshotRead readSnapshot() throws IOException {
        Path path = dir.resolve(DataFiles.SNAPSHOT);
        if (!Files.exists(path)) {
            return new SnapshotRead(0, 0, false);
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long gen = header(ch, path, RecordCodec.FileType.SNAPSHOT).generation();
            Replay r = replay(ch, path);
            boolean damaged = !(r.stop() instanceof RecordReader.End) || r.skipped() > 0;
            if (!(r.stop() instanceof RecordReader.End)) {
                log.warn("snapshot {}: {}; restored the {} records before it and dropped {} (a snapshot is synced"
                        + " before it is renamed, so the disk lost data){}", path, describe(r.stop()), r.records(),
                        droppedFrom(ch, r.stop()), r.copy() == null ? "" : "; the damaged file is kept in " + r.copy());
            }
            return new SnapshotRead(gen, mirror.live.size(), damaged);
        }
    }

    /**
     * Replays {@code journal.bin} when it continues the snapshot, and keeps it open for appending; starts a new
     * journal when there is none or a compaction superseded it.
     */
    private Result openJournal(long snapshotGeneration, int snapshotRows) throws IOException {
        Path path = dir.resolve(DataFiles.JOURNAL);
        if (Files.exists(path)) {
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            boolean keep = false;
            try {
                long gen = header(ch, path, RecordCodec.FileType.JOURNAL).generation();
                if (gen == snapshotGeneration) {
                    Replay r = replay(ch, path);
                    long end = endOfReplay(ch, path, r);
                    keep = true;
                    return new Result(ch, end, gen, r.records(), snapshotRows, r.skipped() > 0, olderFormat);
                }
                if (gen > snapshotGeneration) {
                    throw new IOException("journal " + path + " continues snapshot generation " + gen + " but "
                            + (snapshotGeneration == 0 ? "there is no snapshot" : "the snapshot is generation " + snapshotGeneration)
                            + ": the rows it builds on are lost. Move " + dir + " aside to start with an empty table.");
                }
                log.info("journal {} (generation {}) is superseded by snapshot generation {}: a compaction was"
                        + " interrupted after its commit point; starting the next journal", path, gen, snapshotGeneration);
            } finally {
                if (!keep) {
                    ch.close();
                }
            }
        }
        FileChannel ch = files.createJournal(DataFiles.JOURNAL_TMP, snapshotGeneration);
        try {
            files.replace(DataFiles.JOURNAL_TMP, DataFiles.JOURNAL);
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return new Result(ch, RecordCodec.HEADER_BYTES, snapshotGeneration, 0, snapshotRows, false, olderFormat);
    }

    private RecordCodec.Header header(FileChannel ch, Path path, RecordCodec.FileType type) throws IOException {
        RecordCodec.Header h = DataFiles.readHeader(ch, path, type);
        if (h.version() < RecordCodec.VERSION) {
            olderFormat = true;
        }
        return h;
    }

    /** {@code skipped}: damaged records stepped over; {@code stop}: where the replay ended; {@code copy}: or null. */
    private record Replay(long records, long skipped, RecordReader.Step stop, Path copy) {
    }

    /**
     * Replays every intact record. A damaged one (or one whose length runs past the end while intact records
     * follow) is stepped over after the file is copied aside: one warning each.
     */
    private Replay replay(FileChannel ch, Path path) throws IOException {
        RecordReader reader = new RecordReader(ch, RecordCodec.HEADER_BYTES);
        long records = 0;
        long skipped = 0;
        Path copy = null;
        while (true) {
            RecordReader.Step step = reader.next();
            if (step instanceof RecordReader.Read read) {
                mirror.apply(read.record());
                records++;
                continue;
            }
            long offset;
            String what;
            if (step instanceof RecordReader.Corrupt c) {
                offset = c.offset();
                what = c.what();
            } else if (step instanceof RecordReader.Torn t) {
                offset = t.offset();
                what = t.what();
            } else {
                return new Replay(records, skipped, step, copy);
            }
            long size = ch.size();
            if (RecordReader.onlyZerosFrom(ch, offset, size)) {
                return new Replay(records, skipped, step, copy);
            }
            long next = RecordReader.findNext(ch, offset + 1, size);
            if (next < 0 && step instanceof RecordReader.Torn) {
                return new Replay(records, skipped, step, copy); // a torn last append, nothing intact after it
            }
            if (copy == null) {
                copy = keepCopy(path);
            }
            if (next < 0) {
                return new Replay(records, skipped, step, copy);
            }
            skipped++;
            log.warn("{}: record {} at offset {} is corrupt: {}; dropped its {} bytes and went on at offset {}"
                    + " (the damaged file is kept in {})", path, records + skipped, offset, what, next - offset, next, copy);
            reader = new RecordReader(ch, next);
        }
    }

    private Path keepCopy(Path path) throws IOException {
        Path copy = path.resolveSibling(path.getFileName() + ".corrupt-" + nowMillis);
        Files.copy(path, copy, StandardCopyOption.REPLACE_EXISTING);
        files.tighten(copy.getFileName().toString());
        return copy;
    }

    /**
     * Where appends continue after replaying the journal: cuts off a torn tail or trailing damage; a zero tail
     * (preallocated space) is kept and overwritten by the next appends.
     */
    private long endOfReplay(FileChannel ch, Path path, Replay r) throws IOException {
        RecordReader.Step stop = r.stop();
        if (stop instanceof RecordReader.End end) {
            return end.offset();
        }
        long size = ch.size();
        long at;
        if (stop instanceof RecordReader.Torn torn) {
            at = torn.offset();
            log.info("journal {}: dropped an incomplete last record at offset {} ({}), truncated to {} bytes",
                    path, at, torn.what(), at);
        } else if (RecordReader.onlyZerosFrom(ch, ((RecordReader.Corrupt) stop).offset(), size)) {
            // The store's preallocated space (JournalLeaseStore.Tuning#preallocateBytes), or an append the disk never
            // completed (some file systems extend the file before its data lands): either way the end. Kept: the
            // next append overwrites it.
            at = ((RecordReader.Corrupt) stop).offset();
            log.debug("journal {}: {} bytes of zeros after the last record, at offset {}: the journal's end", path,
                    size - at, at);
            return at;
        } else {
            RecordReader.Corrupt corrupt = (RecordReader.Corrupt) stop;
            at = corrupt.offset();
            log.warn("journal {}: record {} at offset {} is corrupt: {}; no intact record follows, dropping {} ({} bytes);"
                    + " the journal is truncated to {} bytes (the damaged file is kept in {})", path,
                    r.records() + r.skipped() + 1, at, corrupt.what(), droppedFrom(ch, stop), size - at, at, r.copy());
        }
        ch.truncate(at);
        files.force(ch);
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
}
