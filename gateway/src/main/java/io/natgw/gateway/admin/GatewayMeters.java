package io.natgw.gateway.admin;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.natgw.dataplane.TriggerEngine;
import io.natgw.persistence.JournalLeaseStore;
import io.natgw.persistence.JournalStats;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Meters for {@code /metrics} read from the dataplane's trigger engine and the journal. Binders are bound
 * again before each scrape (registration is idempotent), so rules added at runtime get their meters.
 */
public final class GatewayMeters {

    private GatewayMeters() {
    }

    /** Trigger hits, openings, refreshes and refusals ("another host holds the ports") per rule. */
    public static MeterBinder triggers(TriggerEngine engine) {
        return triggers(engine::stats);
    }

    static MeterBinder triggers(Supplier<Map<String, TriggerEngine.RuleStats>> stats) {
        return registry -> {
            for (String rule : stats.get().keySet()) {
                rule(registry, "natgw_trigger_hits", "outbound flows that matched the rule", stats, rule, TriggerEngine.RuleStats::hits);
                rule(registry, "natgw_trigger_opened", "times the rule's ports were opened to a host", stats, rule,
                        TriggerEngine.RuleStats::opened);
                rule(registry, "natgw_trigger_refreshes", "renewals by trigger or incoming traffic", stats, rule,
                        TriggerEngine.RuleStats::refreshes);
                rule(registry, "natgw_trigger_refusals", "triggers refused while another host held the ports", stats, rule,
                        TriggerEngine.RuleStats::refusals);
            }
        };
    }

    private static void rule(io.micrometer.core.instrument.MeterRegistry registry, String name, String help,
                             Supplier<Map<String, TriggerEngine.RuleStats>> stats, String rule,
                             java.util.function.ToLongFunction<TriggerEngine.RuleStats> f) {
        FunctionCounter.builder(name, stats, s -> {
            TriggerEngine.RuleStats r = s.get().get(rule);
            return r == null ? 0 : f.applyAsLong(r);
        }).description(help).tag("rule", rule).register(registry);
    }

    /**
     * The WAN link as the kernel counts it (every packet on the interface, not only natgw's): bytes and packets each
     * way, whether it is up, its speed and how long it has been up. An unknown figure is NaN.
     */
    public static MeterBinder link(io.natgw.core.WanLink link) {
        return registry -> {
            linkCounter(registry, "natgw_wan_received_bytes", "bytes the WAN interface received", link,
                    io.natgw.core.WanLink.Reading::bytesReceived);
            linkCounter(registry, "natgw_wan_sent_bytes", "bytes the WAN interface sent", link, io.natgw.core.WanLink.Reading::bytesSent);
            linkCounter(registry, "natgw_wan_received_packets", "packets the WAN interface received", link,
                    io.natgw.core.WanLink.Reading::packetsReceived);
            linkCounter(registry, "natgw_wan_sent_packets", "packets the WAN interface sent", link,
                    io.natgw.core.WanLink.Reading::packetsSent);
            Gauge.builder("natgw_wan_link_up", link, l -> l.read().state() == io.natgw.core.WanLink.State.UP ? 1 : 0)
                    .description("1 while the WAN link is up (operstate up, or unknown with the interface and carrier up)")
                    .register(registry);
            Gauge.builder("natgw_wan_link_speed_bits_per_second", link, l -> known(l.read().speedBitsPerSecond()))
                    .description("the WAN link's speed as the kernel knows it (NaN for virtual links)").register(registry);
            Gauge.builder("natgw_wan_link_uptime_seconds", link, l -> known(l.read().upSeconds()))
                    .description("how long natgw has seen the WAN link up (NaN when it is not up)").register(registry);
        };
    }

    private static double known(long v) {
        return v >= 0 ? v : Double.NaN;
    }

    private static void linkCounter(io.micrometer.core.instrument.MeterRegistry registry, String name, String help,
                                    io.natgw.core.WanLink link, java.util.function.ToLongFunction<io.natgw.core.WanLink.Reading> f) {
        FunctionCounter.builder(name, link, l -> known(f.applyAsLong(l.read()))).description(help).register(registry);
    }

    /** Journal commits, records, bytes and fsync latency (count, sum, max, p50/p99 from the store's histogram). */
    public static MeterBinder journal(JournalLeaseStore store) {
        return journal(store::stats);
    }

    static MeterBinder journal(Supplier<JournalStats> stats) {
        return registry -> {
            counter(registry, "natgw_journal_commits", "batches made durable (one fsync each)", stats, JournalStats::commits);
            counter(registry, "natgw_journal_records", "records appended to the journal", stats, JournalStats::records);
            counter(registry, "natgw_journal_written_bytes", "bytes appended to the journal", stats, JournalStats::bytes);
            counter(registry, "natgw_journal_compactions", "snapshots written", stats, JournalStats::compactions);
            FunctionTimer.builder("natgw_journal_fsync", stats, s -> s.get().fsyncs(), s -> s.get().fsyncNanos(), TimeUnit.NANOSECONDS)
                    .description("fsync of journal, snapshot and directory").register(registry);
            Gauge.builder("natgw_journal_fsync_max_seconds", stats, s -> s.get().fsyncMaxNanos() / 1e9)
                    .description("the longest fsync").register(registry);
            for (double q : new double[]{0.5, 0.99}) {
                Gauge.builder("natgw_journal_fsync_quantile_seconds", stats, s -> {
                    Duration d = s.get().fsyncQuantile(q);
                    return d == null ? Double.NaN : d.toNanos() / 1e9;
                }).description("fsync latency quantile (upper bucket bound)").tag("quantile", Double.toString(q)).register(registry);
            }
        };
    }

    private static void counter(io.micrometer.core.instrument.MeterRegistry registry, String name, String help,
                                Supplier<JournalStats> stats, ToDoubleFunction<JournalStats> f) {
        FunctionCounter.builder(name, stats, s -> f.applyAsDouble(s.get())).description(help).register(registry);
    }
}
