package io.natgw.core;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Instant;
import java.util.List;

/**
 * Where the table makes its changes durable. {@code persistence} implements it with a journal; its methods are
 * called one at a time, from the table's single writer thread, or (a {@link #commit} beside a kernel forwarder's
 * flush, {@link Forwarder#flushesBatches}) from the table's journal thread while the writer waits for it.
 */
public interface LeaseStore extends AutoCloseable {

    /**
     * Reads what survived the last run, dropping leases expired at {@code now}. Called once, before any commit.
     */
    Recovered recover(Instant now) throws IOException;

    /** Appends the changes and returns once they are durable: one sync for the whole batch (group commit). */
    void commit(List<Change> changes) throws IOException;

    /**
     * Takes back the last {@link #commit}, durably and without appending, and applies {@code inverse} (the changes that
     * undo it) to what the store holds: for a batch the dataplane refused after the store recorded it, when journaling
     * {@code inverse} failed (a removal may need no new space where an append does). Stores that cannot throw (the
     * default), and the table keeps {@code inverse} to journal first when the store writes again.
     */
    default void retract(List<Change> inverse) throws IOException {
        throw new IOException(getClass().getSimpleName() + " cannot take back its last commit");
    }

    /** Durably records the NAT-PMP/PCP epoch start and the external address, so both survive a restart. */
    void recordState(Instant epochStart, InetAddress externalAddress) throws IOException;

    @Override
    void close() throws IOException;

    /**
     * @param mappings          live rows, each once
     * @param expiredDropped    leases that had expired while the gateway was down
     * @param epochStart        the persisted epoch start, {@code null} when nothing was persisted
     * @param externalAddress   the last recorded external address, {@code null} if none
     */
    record Recovered(List<Mapping> mappings, int expiredDropped, Instant epochStart, InetAddress externalAddress) {
        public Recovered {
            mappings = List.copyOf(mappings);
        }

        public static Recovered empty() {
            return new Recovered(List.of(), 0, null, null);
        }
    }
}
