package io.natgw.core;

/**
 * Traffic the dataplane has relayed, as the IGD's WANCommonInterfaceConfig and the admin API show it.
 * "Received" is what arrived from the WAN side (towards LAN hosts), "sent" what left towards the WAN.
 */
public interface TrafficStats {

    /** Totals over every mapping since start. */
    Counters totals();

    /** The counters of one mapping (zero when it carries no traffic or is unknown). */
    Counters of(MappingKey key);

    /**
     * How far the byte figures of {@link #totals()} may be below the bytes actually moved, in each direction: 0 when
     * they are exact. A relay that splices counts whole chunks only, so it cannot see the last partial one. The
     * IGD's GetTotalBytes* can return only a number: they return the counted figure, a lower bound.
     */
    default long totalsBytesUncertainty() {
        return 0;
    }

    /** As {@link #totalsBytesUncertainty()}, for the byte figures of {@link #of(MappingKey)}. */
    default long bytesUncertainty(MappingKey key) {
        return 0;
    }

    /**
     * Totals of the flows diverted to port triggering in linux-gateway mode with relay forwarding (relayed upstream
     * from the WAN address, not through a mapping, so not in {@link #totals()}); zero without a divert.
     */
    default Counters divertedTotals() {
        return Counters.ZERO;
    }

    record Counters(long bytesReceived, long bytesSent, long packetsReceived, long packetsSent, long sessions) {
        public static final Counters ZERO = new Counters(0, 0, 0, 0, 0);
    }

    /** No dataplane: everything is zero. */
    TrafficStats NONE = new TrafficStats() {
        @Override
        public Counters totals() {
            return Counters.ZERO;
        }

        @Override
        public Counters of(MappingKey key) {
            return Counters.ZERO;
        }
    };
}
