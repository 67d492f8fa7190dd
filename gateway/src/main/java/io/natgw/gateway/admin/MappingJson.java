package io.natgw.gateway.admin;

import io.natgw.core.Change;
import io.natgw.core.Mapping;
import io.natgw.core.TrafficStats;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One row of the lease table as the API shows it.
 *
 * @param id               the path segment that names the row: {@code tcp/6000}, plus {@code ?remote=} for filtered rows;
 *                         for a pinhole {@code tcp/6000?host=fd00:77::10}
 * @param external         where the WAN side reaches it: the WAN address and external port, or for a pinhole the
 *                         internal host and port themselves (no translation)
 * @param remainingSeconds lifetime left; null for static mappings
 * @param family           {@code ipv4} for a NAT mapping on the WAN address, {@code ipv6} for an IPv6 pinhole
 * @param pinholeId        the pinhole's id (IGD:2 UniqueID), null for a NAT mapping
 */
record MappingJson(String id, String protocol, int externalPort, String external, String internalAddress, int internalPort,
                   String internal, String remote, String owner, String origin, String description, String kind,
                   Long remainingSeconds, String expiresAt, String createdAt, boolean enabled, Traffic traffic,
                   String family, Integer pinholeId) {

    static final String IPV4 = "ipv4";
    static final String IPV6 = "ipv6";

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
        List<String> query = new ArrayList<>();
        if (m.pinhole()) {
            query.add("host=" + Routes.text(m.internal().address()));
        }
        if (!m.remote().isAny()) {
            query.add("remote=" + Routes.remoteParam(m.remote()));
        }
        String id = m.protocol().label() + "/" + m.externalPort() + (query.isEmpty() ? "" : "?" + String.join("&", query));
        InetAddress reachedAt = m.pinhole() ? m.internal().address() : externalAddress;
        return new MappingJson(id, m.protocol().label(), m.externalPort(),
                Routes.endpoint(reachedAt, m.externalPort()),
                Routes.text(m.internal().address()), m.internal().port(), Routes.endpoint(m.internal().address(), m.internal().port()),
                m.remote().toString(), Routes.text(m.owner().address()), m.owner().origin().label(), m.description(),
                m.kind().label(), left == null ? null : left.toSeconds(),
                m.expiresAt() == null ? null : m.expiresAt().toString(), m.createdAt().toString(), m.enabled(),
                Traffic.of(traffic, m.key()), m.pinhole() ? IPV6 : IPV4, m.pinhole() ? m.pinholeId() : null);
    }

    /** One event of the change stream. */
    record ChangeJson(String type, String cause, MappingJson mapping) {
        static ChangeJson of(Change c, InetAddress externalAddress, Instant now, TrafficStats traffic) {
            return new ChangeJson(c.type().name().toLowerCase(java.util.Locale.ROOT),
                    c.cause().name().toLowerCase(java.util.Locale.ROOT), MappingJson.of(c.mapping(), externalAddress, now, traffic));
        }
    }
}
