package io.natgw.dataplane;

import io.natgw.core.TrafficStats.Counters;

import java.util.concurrent.atomic.LongAdder;

/**
 * Traffic counters of one mapping (or of all: the totals). Every count also goes to the parent, so the
 * totals stay right after a mapping is gone while its connections run on. Safe from any event loop.
 */
final class Meter {

    private final Meter parent;
    private final LongAdder bytesReceived = new LongAdder();
    private final LongAdder bytesSent = new LongAdder();
    private final LongAdder packetsReceived = new LongAdder();
    private final LongAdder packetsSent = new LongAdder();
    private final LongAdder sessions = new LongAdder();

    Meter(Meter parent) {
        this.parent = parent;
    }

    /** Arrived from the WAN side, on its way to the LAN host. */
    void received(long bytes) {
        bytesReceived.add(bytes);
        packetsReceived.increment();
        if (parent != null) {
            parent.received(bytes);
        }
    }

    /** Came from the LAN host, on its way to the WAN peer. */
    void sent(long bytes) {
        bytesSent.add(bytes);
        packetsSent.increment();
        if (parent != null) {
            parent.sent(bytes);
        }
    }

    /** A connection or UDP session opened ({@code +1}) or ended ({@code -1}). */
    void session(int delta) {
        sessions.add(delta);
        if (parent != null) {
            parent.session(delta);
        }
    }

    Counters snapshot() {
        return new Counters(bytesReceived.sum(), bytesSent.sum(), packetsReceived.sum(), packetsSent.sum(), sessions.sum());
    }
}
