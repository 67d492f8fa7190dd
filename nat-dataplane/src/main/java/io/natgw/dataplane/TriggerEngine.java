package io.natgw.dataplane;

import io.natgw.conf.ConfigLoader;
import io.natgw.conf.PortRange;
import io.natgw.conf.Protocol;
import io.natgw.conf.TriggerRule;
import io.natgw.core.Endpoint;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.MappingRequest;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Port triggering: when a LAN host's outbound flow matches a rule's trigger protocol and ports, the rule's incoming
 * ports are opened to that host as triggered mappings in the table. Expiry is the table's: a triggered lease lasts the
 * rule's timeout and is renewed by trigger or incoming traffic (re-submitting the same requests, at most once per
 * tenth of the timeout per rule and host). One host at a time: the table refuses another host's trigger with
 * CONFLICT while the ports are held; that refusal is logged and counted here.
 */
public final class TriggerEngine {

    private static final Logger log = LoggerFactory.getLogger(TriggerEngine.class);
    /** Incoming ports one rule opens at most (a rule with more opens the first ones and says so). */
    static final int MAX_INCOMING_PORTS = 256;
    private static final String DESCRIPTION_PREFIX = "trigger: ";
    /**
     * Host-and-rule pairs whose renewal is rate-limited at once, at most. Spoofed LAN sources cannot grow the rate
     * limiter past it: a pair past its deadline is dropped, and while the limiter is full a new pair waits
     * (RATE_LIMITED) until one runs out.
     */
    static final int MAX_RATE_LIMITED = 4096;

    /** What became of one outbound flow or incoming-traffic report. */
    public enum Result {
        /** No enabled rule matches the flow. */
        NO_RULE,
        /** The rule's ports were submitted for this host less than a tenth of the timeout ago. */
        RATE_LIMITED,
        /** The incoming ports were opened to the host. */
        OPENED,
        /** The host held them already: their leases were renewed. */
        REFRESHED,
        /** Another host holds them (one host at a time). */
        REFUSED,
        /** The table refused for another reason (not running, full, journal failure). */
        FAILED
    }

    /**
     * @param hits      outbound flows that matched the rule
     * @param opened    times its ports were opened to a host
     * @param refreshes renewals by trigger or incoming traffic
     * @param refusals  triggers refused because another host held the ports
     */
    public record RuleStats(long hits, long opened, long refreshes, long refusals) {
    }

    private record HostRule(String rule, InetAddress host) {
    }

    private static final class Counts {
        final LongAdder hits = new LongAdder();
        final LongAdder opened = new LongAdder();
        final LongAdder refreshes = new LongAdder();
        final LongAdder refusals = new LongAdder();

        RuleStats snapshot() {
            return new RuleStats(hits.sum(), opened.sum(), refreshes.sum(), refusals.sum());
        }
    }

    private final Clock clock;
    private volatile List<TriggerRule> rules;
    private volatile MappingTable table;
    private volatile Consumer<List<TriggerRule>> rulesListener = r -> { };
    private final Map<String, Counts> counts = new ConcurrentHashMap<>();
    /** When each host-and-rule pair may submit again; a pair past its deadline is the same as an absent one. */
    private final Map<HostRule, Instant> nextSubmit = new ConcurrentHashMap<>();

    public TriggerEngine(List<TriggerRule> rules, Clock clock) {
        this.rules = List.copyOf(rules);
        this.clock = clock;
    }

    /** The table the engine submits to. */
    public void attach(MappingTable table) {
        this.table = table;
    }

    public List<TriggerRule> rules() {
        return rules;
    }

    /**
     * Replaces the rules at runtime (admin API). Mappings already opened by a removed rule run out with their lease.
     *
     * @throws IllegalArgumentException naming both rules when two conflict (conf's validation)
     */
    public void setRules(List<TriggerRule> next) {
        List<String> problems = ConfigLoader.validateTriggerRules(next);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        rules = List.copyOf(next);
        log.info("trigger rules now: {}", next.stream().map(TriggerRule::name).toList());
        rulesListener.accept(rules);
    }

    /** Per rule name, in rule order (rules no longer configured keep their figures). */
    public Map<String, RuleStats> stats() {
        Map<String, RuleStats> out = new LinkedHashMap<>();
        for (TriggerRule r : rules) {
            out.put(r.name(), counts(r.name()).snapshot());
        }
        counts.forEach((name, c) -> out.putIfAbsent(name, c.snapshot()));
        return out;
    }

    void onRulesChanged(Consumer<List<TriggerRule>> listener) {
        this.rulesListener = listener;
    }

    /** The enabled rule a LAN host's outbound flow to {@code port} triggers, or null. Rules never overlap (conf). */
    public TriggerRule match(Protocol protocol, int port) {
        for (TriggerRule r : rules) {
            if (r.enabled() && r.triggerProtocols().contains(protocol) && r.triggerPorts().contains(port)) {
                return r;
            }
        }
        return null;
    }

    /** A LAN host opened a flow to a WAN port: opens (or renews) the incoming ports of the rule it matches. */
    public CompletableFuture<Result> outbound(Protocol protocol, InetAddress lanHost, int port) {
        TriggerRule rule = match(protocol, port);
        if (rule == null) {
            return CompletableFuture.completedFuture(Result.NO_RULE);
        }
        counts(rule.name()).hits.increment();
        return submit(rule, lanHost);
    }

    /** Traffic arrived on a triggered mapping: renews the rule's ports for its host (rate-limited). */
    public CompletableFuture<Result> incomingTraffic(Mapping m) {
        if (m.kind() != Kind.TRIGGERED || !m.description().startsWith(DESCRIPTION_PREFIX)) {
            return CompletableFuture.completedFuture(Result.NO_RULE);
        }
        String name = m.description().substring(DESCRIPTION_PREFIX.length());
        for (TriggerRule r : rules) {
            if (r.enabled() && r.name().equals(name)) {
                return submit(r, m.owner().address());
            }
        }
        return CompletableFuture.completedFuture(Result.NO_RULE);
    }

    private CompletableFuture<Result> submit(TriggerRule rule, InetAddress host) {
        MappingTable t = table;
        if (t == null) {
            return CompletableFuture.completedFuture(Result.FAILED);
        }
        Instant now = clock.instant();
        Duration interval = rule.timeout().dividedBy(10);
        HostRule key = new HostRule(rule.name(), host);
        if (nextSubmit.size() >= MAX_RATE_LIMITED) {
            nextSubmit.values().removeIf(deadline -> !now.isBefore(deadline));
        }
        boolean[] due = new boolean[1];
        nextSubmit.compute(key, (k, deadline) -> {
            due[0] = deadline == null ? nextSubmit.size() < MAX_RATE_LIMITED : !now.isBefore(deadline);
            return due[0] ? now.plus(interval) : deadline;
        });
        if (!due[0]) {
            return CompletableFuture.completedFuture(Result.RATE_LIMITED);
        }
        Owner owner = Owner.of(host, Origin.TRIGGER);
        List<MappingRequest.Map> requests = requests(rule, owner);
        List<CompletableFuture<Outcome>> futures = new ArrayList<>();
        for (MappingRequest.Map r : requests) {
            futures.add(t.submit(r));
        }
        return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
                .thenApply(x -> conclude(t, rule, owner, futures.stream().map(CompletableFuture::join).toList()));
    }

    private Result conclude(MappingTable t, TriggerRule rule, Owner owner, List<Outcome> outcomes) {
        Counts c = counts(rule.name());
        Outcome.Refused conflict = null;
        Outcome.Refused other = null;
        boolean opened = false;
        for (Outcome o : outcomes) {
            if (o instanceof Outcome.Refused r) {
                if (r.reason() == Outcome.Reason.CONFLICT) {
                    conflict = conflict == null ? r : conflict;
                } else {
                    other = other == null ? r : other;
                }
            } else if (o instanceof Outcome.Granted g && !g.refreshed()) {
                opened = true;
            }
        }
        if (conflict != null || other != null) {
            // All or nothing: give back what this attempt opened, so no host holds half a rule.
            for (Outcome o : outcomes) {
                if (o instanceof Outcome.Granted g && !g.refreshed()) {
                    t.submit(new MappingRequest.Delete(owner, g.mapping().key()));
                }
            }
            if (conflict != null) {
                c.refusals.increment();
                log.info("trigger '{}' from {} refused: {} (one host at a time)", rule.name(),
                        owner.address().getHostAddress(), conflict.detail());
                return Result.REFUSED;
            }
            log.warn("trigger '{}' from {} not applied: {}", rule.name(), owner.address().getHostAddress(), other.detail());
            return Result.FAILED;
        }
        if (opened) {
            c.opened.increment();
            log.info("trigger '{}' opened {} {} to {} for {}s", rule.name(), labels(rule), rule.incomingPorts(),
                    owner.address().getHostAddress(), rule.timeout().toSeconds());
            return Result.OPENED;
        }
        c.refreshes.increment();
        return Result.REFRESHED;
    }

    /** One triggered mapping per incoming protocol and port: to the same port on the host, never elsewhere. */
    static List<MappingRequest.Map> requests(TriggerRule rule, Owner owner) {
        List<MappingRequest.Map> out = new ArrayList<>();
        for (Protocol p : Protocol.values()) {
            if (!rule.incomingProtocols().contains(p)) {
                continue;
            }
            for (PortRange range : rule.incomingPorts().ranges()) {
                for (int port = Math.max(1, range.first()); port <= range.last(); port++) {
                    if (out.size() >= MAX_INCOMING_PORTS) {
                        log.warn("trigger '{}' opens only its first {} incoming ports", rule.name(), MAX_INCOMING_PORTS);
                        return out;
                    }
                    out.add(new MappingRequest.Map(owner, p, new Endpoint(owner.address(), port), port,
                            RemoteFilter.ANY, rule.timeout(), Kind.TRIGGERED, DESCRIPTION_PREFIX + rule.name(), "",
                            MappingRequest.OnConflict.FAIL, true, false));
                }
            }
        }
        return out;
    }

    private static String labels(TriggerRule rule) {
        return rule.incomingProtocols().size() == 2 ? "tcp+udp"
                : rule.incomingProtocols().iterator().next().label();
    }

    /** Host-and-rule pairs the rate limiter holds (tests). */
    int rateLimited() {
        return nextSubmit.size();
    }

    private Counts counts(String rule) {
        return counts.computeIfAbsent(rule, k -> new Counts());
    }
}
