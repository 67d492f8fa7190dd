package io.natgw.persistence;

/** A failure the store's tests make its next appends meet ({@link JournalLeaseStore#failAppends}). */
sealed interface JournalFault {

    /** The write fails after half of the batch reached the file, as on a disk that fills up mid-write. */
    record Write(String reason) implements JournalFault {
    }

    /** The whole batch is written, then the fsync fails (an I/O error; Linux may drop the dirty pages). */
    record Sync(String reason) implements JournalFault {
    }
}
