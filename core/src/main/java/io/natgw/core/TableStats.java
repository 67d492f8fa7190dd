package io.natgw.core;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Requests and refusals by origin and reason, counted where every request passes (the funnel), for the
 * admin API and {@code /metrics}.
 */
public final class TableStats {

    private final Map<Origin, LongAdder> requests = new EnumMap<>(Origin.class);
    private final Map<Origin, Map<Outcome.Reason, LongAdder>> refusals = new EnumMap<>(Origin.class);
    private final LongAdder batches = new LongAdder();
    private final LongAdder expired = new LongAdder();

    TableStats() {
        for (Origin o : Origin.values()) {
            requests.put(o, new LongAdder());
            Map<Outcome.Reason, LongAdder> byReason = new EnumMap<>(Outcome.Reason.class);
            for (Outcome.Reason r : Outcome.Reason.values()) {
                byReason.put(r, new LongAdder());
            }
            refusals.put(o, byReason);
        }
    }

    void count(Origin origin, Outcome outcome) {
        requests.get(origin).increment();
        if (outcome instanceof Outcome.Refused r) {
            refusals.get(origin).get(r.reason()).increment();
        }
    }

    void countBatch() {
        batches.increment();
    }

    void countExpired(int n) {
        expired.add(n);
    }

    public long requests(Origin origin) {
        return requests.get(origin).sum();
    }

    public long refusals(Origin origin, Outcome.Reason reason) {
        return refusals.get(origin).get(reason).sum();
    }

    /** Durable commits (one journal sync each). */
    public long batches() {
        return batches.sum();
    }

    public long expired() {
        return expired.sum();
    }
}
