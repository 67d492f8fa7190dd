package io.natgw.persistence;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.function.Consumer;

/**
 * Writes the mirror as a new generation: {@code snapshot.tmp} and an empty {@code journal.tmp}, both synced,
 * then renames the snapshot into place (the commit point) and then the journal. Recovery ignores a journal older
 * than the snapshot, so a crash at any step restores the same rows.
 */
final class Compactor {

    private static final Logger log = LoggerFactory.getLogger(JournalLeaseStore.class);

    /** The new generation's journal, open for appending. */
    record Compacted(FileChannel journal, long generation) {
    }

    /** A compaction that failed after its commit point: the old journal must never be appended to again. */
    static final class AfterCommitPoint extends IOException {
        private static final long serialVersionUID = 1L;

        AfterCommitPoint(String message, IOException cause) {
            super(message, cause);
        }
    }

    private Compactor() {
    }

    /** {@code crashHook} sees each step as it is reached (crash tests stop there). */
    static Compacted compact(DataFiles files, Mirror mirror, long next, Consumer<CompactionStep> crashHook) throws IOException {
        FileChannel fresh = null;
        try {
            files.writeSnapshot(DataFiles.SNAPSHOT_TMP, next, mirror.state(), mirror.live.values());
            crashHook.accept(CompactionStep.SNAPSHOT_WRITTEN);
            fresh = files.createJournal(DataFiles.JOURNAL_TMP, next);
            crashHook.accept(CompactionStep.JOURNAL_WRITTEN);
            files.rename(DataFiles.SNAPSHOT_TMP, DataFiles.SNAPSHOT); // the commit point
        } catch (IOException e) {
            try {
                if (fresh != null) {
                    fresh.close();
                }
                files.deleteIfExists(DataFiles.JOURNAL_TMP);
                files.deleteIfExists(DataFiles.SNAPSHOT_TMP);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw new IOException("cannot write a snapshot of " + files.dir() + " (" + e.getMessage() + ")", e);
        }
        try {
            files.syncDirectory();
            crashHook.accept(CompactionStep.SNAPSHOT_RENAMED);
            files.replace(DataFiles.JOURNAL_TMP, DataFiles.JOURNAL);
        } catch (IOException e) {
            fresh.close();
            throw new AfterCommitPoint("compaction of " + files.dir() + " failed after its snapshot was renamed ("
                    + e.getMessage() + ")", e);
        }
        log.debug("compacted {} into generation {}", files.dir(), next);
        return new Compacted(fresh, next);
    }
}
