package io.natgw.gateway.admin;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.natgw.conf.Protocol;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.TableStats;
import io.natgw.core.TrafficStats;

import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * {@code /metrics} in Prometheus text format through Micrometer. Every value is read from its owner when
 * scraped (the table's view and stats, the dataplane's counters); nothing here counts on its own.
 */
final class AdminMetrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final List<MeterBinder> extra;

    AdminMetrics(MappingTable table, TrafficStats traffic, List<MeterBinder> extra) {
        this.extra = List.copyOf(extra);
        bindTable(registry, table);
        bindTraffic(registry, traffic);
    }

    /** Binds the extra meters again first: rules added since the last scrape get theirs (registering is idempotent). */
    synchronized String scrape() {
        for (MeterBinder b : extra) {
            b.bindTo(registry);
        }
        return registry.scrape();
    }

    private static void bindTable(MeterRegistry r, MappingTable table) {
        for (Protocol p : Protocol.values()) {
            for (Kind k : Kind.values()) {
                Gauge.builder("natgw_mappings", table, t -> count(t.view().portMappings(), p, k))
                        .description("NAT mappings in the table (on the WAN address)").tag("protocol", p.label())
                        .tag("kind", k.label()).register(r);
                Gauge.builder("natgw_pinholes", table, t -> count(t.view().pinholes(), p, k))
                        .description("IPv6 pinholes in the table").tag("protocol", p.label()).tag("kind", k.label()).register(r);
            }
        }
        TableStats stats = table.stats();
        for (Origin o : Origin.values()) {
            FunctionCounter.builder("natgw_requests", stats, s -> s.requests(o))
                    .description("requests the table answered, by front-end").tag("origin", o.label()).register(r);
            for (Outcome.Reason reason : Outcome.Reason.values()) {
                FunctionCounter.builder("natgw_refusals", stats, s -> s.refusals(o, reason))
                        .description("requests the table refused, by front-end and reason")
                        .tag("origin", o.label()).tag("reason", reason.name().toLowerCase(Locale.ROOT)).register(r);
            }
        }
        FunctionCounter.builder("natgw_table_commits", stats, TableStats::batches)
                .description("durable commits (one journal sync each)").register(r);
        FunctionCounter.builder("natgw_leases_expired", stats, TableStats::expired)
                .description("leases removed because they ran out").register(r);
    }

    private static void bindTraffic(MeterRegistry r, TrafficStats traffic) {
        // Names true under both forwardings: relays (userspace mode, forwarding: relay) and the kernel (nftables).
        counter(r, "natgw_forwarded_received_bytes", "bytes forwarded from the WAN side towards LAN hosts (kernel: IP "
                + "packet lengths; relays: payload)", traffic, c -> c.bytesReceived());
        counter(r, "natgw_forwarded_sent_bytes", "bytes forwarded from LAN hosts towards the WAN side (kernel: IP packet "
                + "lengths; relays: payload)", traffic, c -> c.bytesSent());
        // The kernel counts IP packets; a relay cannot see them: it counts UDP datagrams (TCP only in bytes).
        counter(r, "natgw_forwarded_received_packets", "packets forwarded towards LAN hosts (kernel forwarding: IP "
                + "packets; relays: UDP datagrams, TCP counted in bytes only)", traffic, c -> c.packetsReceived());
        counter(r, "natgw_forwarded_sent_packets", "packets forwarded towards the WAN side (kernel forwarding: IP "
                + "packets; relays: UDP datagrams, TCP counted in bytes only)", traffic, c -> c.packetsSent());
        FunctionCounter.builder("natgw_diverted_received_bytes", traffic, t -> t.divertedTotals().bytesReceived())
                .description("bytes of the flows diverted for port triggering (linux-gateway relay), towards LAN hosts")
                .register(r);
        FunctionCounter.builder("natgw_diverted_sent_bytes", traffic, t -> t.divertedTotals().bytesSent())
                .description("bytes of the flows diverted for port triggering (linux-gateway relay), towards the WAN")
                .register(r);
        Gauge.builder("natgw_forwarded_bytes_uncertainty", traffic, TrafficStats::totalsBytesUncertainty).description("bytes"
                + " each byte counter may be short of the bytes moved: spliced TCP is counted in 64 KiB chunks (0: exact)")
                .register(r);
        // Open now, so it goes down: a gauge (a counter would break rate()).
        Gauge.builder("natgw_relay_sessions", traffic, t -> t.totals().sessions())
                .description("sessions open now: relays' TCP connections and UDP peers; under kernel forwarding, the "
                        + "mapped flows' conntrack entries").register(r);
    }

    private static void counter(MeterRegistry r, String name, String help, TrafficStats traffic,
                                ToDoubleFunction<TrafficStats.Counters> f) {
        FunctionCounter.builder(name, traffic, t -> f.applyAsDouble(t.totals())).description(help).register(r);
    }

    private static double count(List<Mapping> rows, Protocol p, Kind k) {
        int n = 0;
        for (Mapping m : rows) {
            if (m.protocol() == p && m.kind() == k) {
                n++;
            }
        }
        return n;
    }
}
