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
