package io.natgw.dataplane;

import io.natgw.core.TrafficStats.Counters;

/**
 * What the relay counted for one mapping or in total, each figure named for what it is. "Received" is WAN → LAN,
 * "sent" LAN → WAN.
 *
 * @param bytesReceived        bytes relayed towards LAN hosts (approximate when {@code splicedConnections > 0})
 * @param bytesSent            bytes relayed towards the WAN side (likewise)
 * @param datagramsReceived    UDP datagrams relayed towards LAN hosts: real packets
 * @param datagramsSent        UDP datagrams relayed towards the WAN side
 * @param tcpReadsReceived     read() calls on WAN-side TCP connections (not packets: a read takes many segments)
 * @param tcpReadsSent         read() calls on LAN-side TCP connections
 * @param splicedConnections   TCP connections relayed by splice(2), whose bytes are counted per completed 64 KiB
 *                             chunk: the byte counts may be short by up to 64 KiB per such connection and direction
 * @param sessions             TCP connections and UDP sessions open now (a gauge)
 */
public record RelayCounters(long bytesReceived, long bytesSent, long datagramsReceived, long datagramsSent,
                            long tcpReadsReceived, long tcpReadsSent, long splicedConnections, long sessions) {

    public static final RelayCounters ZERO = new RelayCounters(0, 0, 0, 0, 0, 0, 0, 0);

    /** Whether the byte counts are approximate: some connections were spliced, counted in 64 KiB steps. */
    public boolean bytesApproximate() {
        return splicedConnections > 0;
    }

    /** How far the byte counts may be short in each direction: 64 KiB per spliced connection. */
    public long bytesUncertainty() {
        return splicedConnections * TcpRelay.SPLICE_CHUNK;
    }

    /** As {@code TrafficStats} shows it: packets are the datagrams only. */
    public Counters asTrafficCounters() {
        return new Counters(bytesReceived, bytesSent, datagramsReceived, datagramsSent, sessions);
    }
}
