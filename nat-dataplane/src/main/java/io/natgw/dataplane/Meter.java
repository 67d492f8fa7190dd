package io.natgw.dataplane;

import io.natgw.core.TrafficStats.Counters;

import java.util.concurrent.atomic.LongAdder;

/**
 * Traffic counters of one mapping (or of all: the totals). Every count also goes to the parent, so the totals stay
 * right after a mapping is gone while its connections run on. Safe from any event loop.
 *
 * <p>What is counted is what the relay sees, named as such: UDP datagrams; TCP {@code read()}s (one read carries any
 * number of TCP segments, so they are not packets); and bytes, exact except those moved by {@code splice(2)}, which
 * are counted per completed 64 KiB splice, so each spliced connection is counted too
 * ({@link RelayCounters#splicedConnections()}) and a reader can say the byte figures are approximate.
 */
final class Meter {

    private final Meter parent;
    private final LongAdder bytesReceived = new LongAdder();
    private final LongAdder bytesSent = new LongAdder();
    private final LongAdder datagramsReceived = new LongAdder();
    private final LongAdder datagramsSent = new LongAdder();
    private final LongAdder tcpReadsReceived = new LongAdder();
    private final LongAdder tcpReadsSent = new LongAdder();
    private final LongAdder splicedConnections = new LongAdder();
    private final LongAdder sessions = new LongAdder();

    Meter(Meter parent) {
        this.parent = parent;
    }

    /** A datagram arrived from the WAN side, on its way to the LAN host. */
    void datagramReceived(long bytes) {
        datagramsReceived.increment();
        bytesReceived.add(bytes);
        if (parent != null) {
            parent.datagramReceived(bytes);
        }
    }

    /** A datagram came from the LAN host, on its way to the WAN peer. */
    void datagramSent(long bytes) {
        datagramsSent.increment();
        bytesSent.add(bytes);
        if (parent != null) {
            parent.datagramSent(bytes);
        }
    }

    /** One read() of a TCP connection's WAN side: {@code bytes} towards the LAN host. */
    void tcpReadReceived(long bytes) {
        tcpReadsReceived.increment();
        bytesReceived.add(bytes);
        if (parent != null) {
            parent.tcpReadReceived(bytes);
        }
    }

    /** One read() of a TCP connection's LAN side: {@code bytes} towards the WAN peer. */
    void tcpReadSent(long bytes) {
        tcpReadsSent.increment();
        bytesSent.add(bytes);
        if (parent != null) {
            parent.tcpReadSent(bytes);
        }
    }

    /**
     * A completed splice of {@code bytes} towards the LAN host. Approximate: counted per completed chunk, so the last
     * partial chunk before the FIN is not seen ({@link #spliced()} marks the connection).
     */
    void splicedReceived(long bytes) {
        bytesReceived.add(bytes);
        if (parent != null) {
            parent.splicedReceived(bytes);
        }
    }

    /** A completed splice towards the WAN peer (approximate, as {@link #splicedReceived}). */
    void splicedSent(long bytes) {
        bytesSent.add(bytes);
        if (parent != null) {
            parent.splicedSent(bytes);
        }
    }

    /** A connection whose bytes are spliced, so counted approximately, started. */
    void spliced() {
        splicedConnections.increment();
        if (parent != null) {
            parent.spliced();
        }
    }

    /** A connection or UDP session opened ({@code +1}) or ended ({@code -1}). */
    void session(int delta) {
        sessions.add(delta);
        if (parent != null) {
            parent.session(delta);
        }
    }

    /** Everything this meter counts. */
    RelayCounters counters() {
        return new RelayCounters(bytesReceived.sum(), bytesSent.sum(), datagramsReceived.sum(), datagramsSent.sum(),
                tcpReadsReceived.sum(), tcpReadsSent.sum(), splicedConnections.sum(), sessions.sum());
    }

    /** As {@code TrafficStats} shows it: packets are datagrams (TCP reads are not packets and are not in them). */
    Counters snapshot() {
        return counters().asTrafficCounters();
    }
}
