package io.natgw.persistence;

import io.natgw.core.Mapping;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.Collection;
import java.util.Locale;
import java.util.Set;
import java.nio.file.OpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files of a data directory and the few ways they are written: whole new files (synced, then renamed into
 * place) and appends. Every sync is timed into the store's {@link JournalStats}.
 */
final class DataFiles {

    static final String JOURNAL = "journal.bin";
    static final String SNAPSHOT = "snapshot.bin";
    static final String JOURNAL_TMP = "journal.tmp";
    static final String SNAPSHOT_TMP = "snapshot.tmp";
    static final String LOCK = "lock";
    private static final int WRITE_CHUNK = 1 << 20;
    private static final Logger LOG = LoggerFactory.getLogger(JournalLeaseStore.class);

    private final Path dir;
    private final Clock clock;
    private final JournalStats.Recorder stats;

    DataFiles(Path dir, Clock clock, JournalStats.Recorder stats) {
        this.dir = dir;
        this.clock = clock;
        this.stats = stats;
    }

    Path dir() {
        return dir;
    }

    Path path(String name) {
        return dir.resolve(name);
    }

    /** A synced, empty journal of generation {@code gen} named {@code name}, open for appending. */
    FileChannel createJournal(String name, long gen) throws IOException {
        FileChannel ch = open(path(name), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            write(ch, header(RecordCodec.FileType.JOURNAL, gen), 0);
            force(ch);
            return ch;
        } catch (IOException e) {
            ch.close();
            throw e;
        }
    }

    /** Writes and syncs a snapshot of generation {@code gen}: the state (when known), then every row. */
    void writeSnapshot(String name, long gen, JournalRecord.State state, Collection<Mapping> rows) throws IOException {
        try (FileChannel ch = open(path(name), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            long position = write(ch, header(RecordCodec.FileType.SNAPSHOT, gen), 0);
            Sink sink = new Sink(WRITE_CHUNK + 4096);
            if (state != null) {
                RecordCodec.append(state, sink);
            }
            for (Mapping m : rows) {
                RecordCodec.append(new JournalRecord.Put(m), sink);
                if (sink.position() >= WRITE_CHUNK) {
                    position = write(ch, sink.written(), position);
                    sink.clear();
                }
            }
            write(ch, sink.written(), position);
            force(ch);
        }
    }

    /** Owner read and write only: leases say which LAN host runs which service. */
    static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rw-------");

    /** Opens a file, created with {@link #PRIVATE} permissions where the file system has them. */
    static FileChannel open(Path path, OpenOption... options) throws IOException {
        if (path.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return FileChannel.open(path, Set.of(options), PosixFilePermissions.asFileAttribute(PRIVATE));
        }
        return FileChannel.open(path, options);
    }

    /** Narrows an existing file of the directory to {@link #PRIVATE} (files written by older releases were 0644). */
    void tighten(String name) throws IOException {
        Path p = path(name);
        if (!Files.exists(p) || !p.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        Set<PosixFilePermission> now = Files.getPosixFilePermissions(p);
        if (!now.equals(PRIVATE)) {
            Files.setPosixFilePermissions(p, PRIVATE);
            LOG.info("{}: permissions {} narrowed to {}", p, PosixFilePermissions.toString(now), PosixFilePermissions.toString(PRIVATE));
        }
    }

    /** Reads and checks a file's header; a file that is not ours stops start-up with what to do. */
    static RecordCodec.Header readHeader(FileChannel ch, Path path, RecordCodec.FileType type) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(RecordCodec.HEADER_BYTES);
        while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
            // read the whole header
        }
        try {
            return RecordCodec.decodeHeader(b.flip(), type);
        } catch (RecordFormatException e) {
            throw new IOException(path + " is not a readable natgw " + type.name().toLowerCase(Locale.ROOT) + ": "
                    + e.getMessage() + ". Move it aside to start without it.");
        }
    }

    /** Renames {@code from} over {@code to} atomically and makes the rename durable. */
    void replace(String from, String to) throws IOException {
        rename(from, to);
        syncDirectory();
    }

    /** Renames {@code from} over {@code to} atomically; durable after {@link #syncDirectory()}. */
    void rename(String from, String to) throws IOException {
        Files.move(path(from), path(to), StandardCopyOption.ATOMIC_MOVE);
    }

    void deleteIfExists(String name) throws IOException {
        Files.deleteIfExists(path(name));
    }

    /** Writes all of {@code b} at {@code position}; returns the position after it. */
    static long write(FileChannel ch, ByteBuffer b, long position) throws IOException {
        long p = position;
        while (b.hasRemaining()) {
            p += ch.write(b, p);
        }
        return p;
    }

    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 * 1024).asReadOnlyBuffer();

    /** Writes zeros from {@code from} to {@code to} (real blocks: an overwrite needs no allocation later). */
    static void writeZeros(FileChannel ch, long from, long to) throws IOException {
        long p = from;
        while (p < to) {
            ByteBuffer z = ZEROS.duplicate();
            z.limit((int) Math.min(z.capacity(), to - p));
            p = write(ch, z, p);
        }
    }

    /** fdatasync: the data, and the file size that reading it back needs. */
    void force(FileChannel ch) throws IOException {
        long t0 = System.nanoTime();
        ch.force(false);
        stats.fsync(System.nanoTime() - t0);
    }

    /** Makes renames durable: the directory entry itself must reach the disk. */
    void syncDirectory() throws IOException {
        long t0 = System.nanoTime();
        syncDirectory(dir);
        stats.fsync(System.nanoTime() - t0);
    }

    static void syncDirectory(Path directory) throws IOException {
        try (FileChannel d = FileChannel.open(directory, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    private ByteBuffer header(RecordCodec.FileType type, long gen) {
        return RecordCodec.encodeHeader(new RecordCodec.Header(type, gen, clock.millis()));
    }
}
