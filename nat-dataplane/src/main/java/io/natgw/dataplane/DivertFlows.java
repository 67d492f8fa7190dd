package io.natgw.dataplane;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The divert's UDP flow table: flows by key with the instant each last carried a datagram either way; a flow idle for
 * the dataplane's {@code udpIdleTimeout} (at least 120 s, RFC 4787 REQ-5, as for mapped ports) is closed by
 * {@link #sweep()}. The table holds at most {@code capacity} flows (the dataplane's {@code udpSessions} budget): a LAN
 * host sending to many destinations of a wide trigger range cannot make the divert hold more. Used on one event loop
 * only.
 *
 * @param <K> what tells flows apart
 * @param <F> a flow
 */
final class DivertFlows<K, F> {

    /** A flow and when it last carried traffic. */
    static final class Entry<F> {
        final F flow;
        Instant last;

        private Entry(F flow, Instant last) {
            this.flow = flow;
            this.last = last;
        }
    }

    private final Clock clock;
    private final Duration idleTimeout;
    private final Consumer<F> close;
    private final int capacity;
    private final Map<K, Entry<F>> flows = new HashMap<>();

    /**
     * @param capacity most flows held at once
     * @param close    ends a flow (which then calls {@link #remove} itself, or not: the sweep removes it either way)
     */
    DivertFlows(Duration configuredIdleTimeout, int capacity, Clock clock, Consumer<F> close) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity " + capacity + " (accepted: 1 or more)");
        }
        this.capacity = capacity;
        this.idleTimeout = configuredIdleTimeout.compareTo(UdpListener.MIN_IDLE) < 0 ? UdpListener.MIN_IDLE
                : configuredIdleTimeout;
        this.clock = clock;
        this.close = close;
    }

    Duration idleTimeout() {
        return idleTimeout;
    }

    /** Seconds between sweeps: a quarter of the timeout, 1 to 30 s (as for mapped ports). */
    long sweepPeriodSeconds() {
        return Math.max(1, Math.min(30, idleTimeout.toSeconds() / 4));
    }

    Entry<F> get(K key) {
        return flows.get(key);
    }

    /** Whether a new flow would exceed the capacity: the caller then refuses it before opening anything. */
    boolean full() {
        return flows.size() >= capacity;
    }

    /** Adds a flow, active now. The caller checked {@link #full()} first. */
    Entry<F> add(K key, F flow) {
        if (full() && !flows.containsKey(key)) {
            throw new IllegalStateException("divert flow table full (" + capacity + " flows)");
        }
        Entry<F> e = new Entry<>(flow, clock.instant());
        flows.put(key, e);
        return e;
    }

    /** The flow carried a datagram now. */
    void touch(Entry<F> e) {
        e.last = clock.instant();
    }

    /** The flow ended: drops its row (not a newer flow's under the same key). */
    void remove(K key, F flow) {
        Entry<F> e = flows.get(key);
        if (e != null && e.flow == flow) {
            flows.remove(key);
        }
    }

    int size() {
        return flows.size();
    }

    /** Closes and removes the flows idle at the clock's now; returns how many. */
    int sweep() {
        Instant now = clock.instant();
        List<Map.Entry<K, Entry<F>>> idle = new ArrayList<>();
        for (Map.Entry<K, Entry<F>> e : flows.entrySet()) {
            if (!now.isBefore(e.getValue().last.plus(idleTimeout))) {
                idle.add(e);
            }
        }
        for (Map.Entry<K, Entry<F>> e : idle) {
            flows.remove(e.getKey());
            close.accept(e.getValue().flow);
        }
        return idle.size();
    }

    /** Closes and removes every flow (the divert socket closed). */
    void closeAll() {
        List<Entry<F>> all = new ArrayList<>(flows.values());
        flows.clear();
        for (Entry<F> e : all) {
            close.accept(e.flow);
        }
    }
}
