package io.natgw.gateway.admin;

import io.natgw.conf.NatgwConfig;
import io.natgw.conf.Protocol;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.MappingTable;
import io.natgw.core.TrafficStats;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** {@code GET /api/v1/status}: what the status panel and {@code natgw status} show. */
final class StatusApi {

    private final MappingTable table;
    private final TrafficStats traffic;
    private final Supplier<List<Listener>> listeners;
    private final Instant startedAt;
    private final Supplier<io.natgw.gateway.wan.StunProbe.Result> stun;

    StatusApi(MappingTable table, TrafficStats traffic, Supplier<List<Listener>> listeners, Instant startedAt,
              Supplier<io.natgw.gateway.wan.StunProbe.Result> stun) {
        this.stun = stun;
        this.table = table;
        this.traffic = traffic;
        this.listeners = listeners;
        this.startedAt = startedAt;
    }

    /**
     * @param externalAddress        the bind address mappings are opened on
     * @param reportedAddress        what clients are told (network.wan.reportedAddress, else the bind address)
     * @param externalAddressProblem why clients are told there is no external address (private, CGNAT,
     *                               loopback without network.wan.allowPrivate), or null
     * @param stunAddress            what network.wan.stun's server sees (null when not configured or not learned)
     * @param stunProblem            why there is no stunAddress (null when learned or not configured)
     */
    record Status(String externalAddress, String reportedAddress, String externalAddressProblem, String stunAddress,
                  String stunProblem, long epochSeconds,
                  String epochStart, long uptimeSeconds, String startedAt,
                  int mappings, Map<String, Map<String, Integer>> counts, MappingJson.Traffic traffic,
                  List<Listener> listeners, String config) {
    }

    Status status() {
        Map<String, Map<String, Integer>> counts = new LinkedHashMap<>();
        for (Protocol p : Protocol.values()) {
            Map<String, Integer> byKind = new LinkedHashMap<>();
            for (Kind k : Kind.values()) {
                byKind.put(k.label(), 0);
            }
            counts.put(p.label(), byKind);
        }
        List<Mapping> rows = table.view().mappings();
        for (Mapping m : rows) {
            counts.get(m.protocol().label()).merge(m.kind().label(), 1, Integer::sum);
        }
        Instant now = table.clock().instant();
        InetAddress bound = table.externalAddress();
        NatgwConfig.Network wan = table.config().network();
        return new Status(bound.getHostAddress(), wan.reported(bound).getHostAddress(),
                wan.unreachableWarning(bound).orElse(null), stun.get() == null ? null : stun.get().address(),
                stun.get() == null ? null : stun.get().problem(), table.epochSeconds(), table.epochStart().toString(),
                Duration.between(startedAt, now).toSeconds(), startedAt.toString(), rows.size(), counts,
                MappingJson.Traffic.totals(traffic), new ArrayList<>(listeners.get()),
                String.valueOf(table.config().source()));
    }
}
