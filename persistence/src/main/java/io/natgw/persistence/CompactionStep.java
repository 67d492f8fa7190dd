package io.natgw.persistence;

/**
 * The points of a compaction at which a crash leaves different files on disk; tests stop the store at each
 * one (through {@link JournalLeaseStore#crashAt}) and check that recovery restores everything.
 */
enum CompactionStep {
    /** {@code snapshot.tmp} is complete and synced; {@code snapshot.bin} is still the old one. */
    SNAPSHOT_WRITTEN,
    /** {@code journal.tmp} (the next generation's empty journal) is synced too; nothing renamed yet. */
    JOURNAL_WRITTEN,
    /** {@code snapshot.bin} is the new generation; {@code journal.bin} still the old one (now superseded). */
    SNAPSHOT_RENAMED,
    /** {@code journal.bin} is the new generation's: the compaction is complete on disk. */
    JOURNAL_RENAMED
}
