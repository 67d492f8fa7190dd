package io.natgw.gateway.admin;

import io.natgw.conf.Protocol;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.MappingTable;
import io.natgw.core.TrafficStats;

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

    StatusApi(MappingTable table, TrafficStats traffic, Supplier<List<Listener>> listeners, Instant startedAt) {
        this.table = table;
        this.traffic = traffic;
        this.listeners = listeners;
        this.startedAt = startedAt;
    }

    record Status(String externalAddress, long epochSeconds, String epochStart, long uptimeSeconds, String startedAt,
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
        return new Status(table.externalAddress().getHostAddress(), table.epochSeconds(), table.epochStart().toString(),
                Duration.between(startedAt, now).toSeconds(), startedAt.toString(), rows.size(), counts,
                MappingJson.Traffic.totals(traffic), new ArrayList<>(listeners.get()),
                String.valueOf(table.config().source()));
    }
}
