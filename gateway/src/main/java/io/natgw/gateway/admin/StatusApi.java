package io.natgw.gateway.admin;

import io.natgw.conf.NatgwConfig;
import io.natgw.conf.Protocol;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.MappingTable;
import io.natgw.core.TrafficStats;
import io.natgw.core.WanLink;

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
    private final WanLink link;

    StatusApi(MappingTable table, TrafficStats traffic, Supplier<List<Listener>> listeners, Instant startedAt,
              Supplier<io.natgw.gateway.wan.StunProbe.Result> stun, WanLink link) {
        this.stun = stun;
        this.link = link;
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
     * @param stunAddress            what network.wan.stun's server sees (null when not configured or not learned
     *                               yet); after an unanswered refresh, the last answer (with stunProblem)
     * @param stunProblem            why there is no stunAddress, or why it is a stale one (null when the last round
     *                               was answered, or when not configured)
     * @param mappings               every row: NAT mappings and IPv6 pinholes
     * @param counts                 NAT mappings by protocol and kind
     * @param pinholes               IPv6 pinholes
     */
    record Status(String externalAddress, String reportedAddress, String externalAddressProblem, String stunAddress,
                  String stunProblem, long epochSeconds,
                  String epochStart, long uptimeSeconds, String startedAt,
                  int mappings, Map<String, Map<String, Integer>> counts, MappingJson.Traffic traffic,
                  List<Listener> listeners, String config, Link link, int pinholes) {
    }

    /**
     * The WAN link as the kernel reports it (all the interface's traffic, not only natgw's); null where unknown.
     *
     * @param state up, initializing, down, unknown or absent (no interface known)
     * @param upSeconds how long natgw has seen the link up (from its first reading when it was already up)
     */
    record Link(String interfaceName, String state, String problem, Long bytesReceived, Long bytesSent,
                Long packetsReceived, Long packetsSent, Long speedBitsPerSecond, Long upSeconds) {

        static Link of(WanLink.Reading r) {
            return new Link(r.interfaceName(), r.state().name().toLowerCase(java.util.Locale.ROOT), r.problem(),
                    known(r.bytesReceived()), known(r.bytesSent()), known(r.packetsReceived()), known(r.packetsSent()),
                    known(r.speedBitsPerSecond()), known(r.upSeconds()));
        }

        private static Long known(long v) {
            return v >= 0 ? v : null;
        }
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
        io.natgw.core.TableView view = table.view();
        List<Mapping> rows = view.mappings();
        for (Mapping m : view.portMappings()) {
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
                String.valueOf(table.config().source()), Link.of(link.read()), view.pinholes().size());
    }
}
