package io.natgw.gateway.admin;

import io.natgw.core.Change;
import io.natgw.core.Mapping;
import io.natgw.core.TrafficStats;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;

/**
 * One row of the lease table as the API shows it.
 *
 * @param id               the path segment that names the row: {@code tcp/6000}, plus {@code ?remote=} for filtered rows
 * @param remainingSeconds lifetime left; null for static mappings
 */
record MappingJson(String id, String protocol, int externalPort, String external, String internalAddress, int internalPort,
                   String internal, String remote, String owner, String origin, String description, String kind,
                   Long remainingSeconds, String expiresAt, String createdAt, boolean enabled, Traffic traffic) {

    /**
     * What the dataplane counted.
     *
     * @param bytesApproximate  whether the byte figures may be short of the bytes moved (spliced TCP is counted in
     *                          64 KiB chunks); when false they are exact
     * @param bytesUncertainty  by how much at most, in each direction: the bytes moved lie in
     *                          [bytesReceived, bytesReceived + bytesUncertainty], likewise for bytesSent
     */
    record Traffic(long bytesReceived, long bytesSent, long packetsReceived, long packetsSent, long sessions,
                   boolean bytesApproximate, long bytesUncertainty) {
        static Traffic of(TrafficStats.Counters c, long uncertainty) {
            return new Traffic(c.bytesReceived(), c.bytesSent(), c.packetsReceived(), c.packetsSent(), c.sessions(),
                    uncertainty > 0, uncertainty);
        }

        static Traffic totals(TrafficStats traffic) {
            return of(traffic.totals(), traffic.totalsBytesUncertainty());
        }

        static Traffic of(TrafficStats traffic, io.natgw.core.MappingKey key) {
            return of(traffic.of(key), traffic.bytesUncertainty(key));
        }
    }

    static MappingJson of(Mapping m, InetAddress externalAddress, Instant now, TrafficStats traffic) {
        Duration left = m.remaining(now);
        String id = m.protocol().label() + "/" + m.externalPort()
                + (m.remote().isAny() ? "" : "?remote=" + Routes.remoteParam(m.remote()));
        return new MappingJson(id, m.protocol().label(), m.externalPort(),
                new io.natgw.core.Endpoint(externalAddress, m.externalPort()).toString(),
                m.internal().address().getHostAddress(), m.internal().port(), m.internal().toString(),
                m.remote().toString(), m.owner().address().getHostAddress(), m.owner().origin().label(), m.description(),
                m.kind().label(), left == null ? null : left.toSeconds(),
                m.expiresAt() == null ? null : m.expiresAt().toString(), m.createdAt().toString(), m.enabled(),
                Traffic.of(traffic, m.key()));
    }

    /** One event of the change stream. */
    record ChangeJson(String type, String cause, MappingJson mapping) {
        static ChangeJson of(Change c, InetAddress externalAddress, Instant now, TrafficStats traffic) {
            return new ChangeJson(c.type().name().toLowerCase(java.util.Locale.ROOT),
                    c.cause().name().toLowerCase(java.util.Locale.ROOT), MappingJson.of(c.mapping(), externalAddress, now, traffic));
        }
    }
}
