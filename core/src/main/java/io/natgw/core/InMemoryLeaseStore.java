package io.natgw.core;

import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A store that keeps rows in memory only: for unit tests of the table and its front-ends, and for a
 * gateway configured without persistence. Survives {@link #close()} and a later {@link #recover} within
 * one JVM, which lets tests restart a table on it.
 */
public final class InMemoryLeaseStore implements LeaseStore {

    private final Map<MappingKey, Mapping> rows = new LinkedHashMap<>();
    private Instant epochStart;
    private InetAddress externalAddress;

    @Override
    public synchronized Recovered recover(Instant now) {
        List<Mapping> live = new ArrayList<>();
        int expired = 0;
        for (Mapping m : List.copyOf(rows.values())) {
            if (m.expiredAt(now)) {
                rows.remove(m.key());
                expired++;
            } else {
                live.add(m);
            }
        }
        return new Recovered(live, expired, epochStart, externalAddress);
    }

    @Override
    public synchronized void commit(List<Change> changes) {
        for (Change c : changes) {
            if (c.before() != null) {
                rows.remove(c.before().key());
            }
            if (c.after() != null) {
                rows.put(c.after().key(), c.after());
            }
        }
    }

    @Override
    public synchronized void recordState(Instant epochStart, InetAddress externalAddress) {
        this.epochStart = epochStart;
        this.externalAddress = externalAddress;
    }

    /** The rows as last committed, in first-commit order. */
    public synchronized List<Mapping> rows() {
        return List.copyOf(rows.values());
    }

    @Override
    public void close() {
    }
}
