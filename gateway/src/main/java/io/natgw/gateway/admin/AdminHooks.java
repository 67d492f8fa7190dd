package io.natgw.gateway.admin;

import io.micrometer.core.instrument.binder.MeterBinder;
import io.natgw.conf.TriggerRule;
import io.natgw.core.TrafficStats;
import io.natgw.core.WanLink;

import java.security.SecureRandom;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What the admin surfaces need from the rest of the gateway besides the table, so {@code admin} depends on
 * no other front-end: the dataplane's counters, where trigger rules are applied, the gateway's listeners
 * (status panel), the WAN link (status) and extra meters (dataplane, journal, link) for {@code /metrics}.
 *
 * @param applyTriggers called with the whole rule list at start and after every accepted change
 *                      (the dataplane's {@code TriggerEngine::setRules})
 * @param reload        re-reads and applies the configuration file ({@code POST /api/v1/reload}); the gateway's
 */
public record AdminHooks(TrafficStats traffic, Consumer<List<TriggerRule>> applyTriggers, Supplier<List<Listener>> listeners,
                         List<MeterBinder> meters, SecureRandom random, Supplier<ReloadReport> reload, WanLink link) {

    public AdminHooks {
        meters = List.copyOf(meters);
    }

    /** No dataplane, no other listeners, no extra meters: trigger rules are only stored. */
    public static AdminHooks none() {
        return new AdminHooks(TrafficStats.NONE, rules -> { }, List::of, List.of(), new SecureRandom(), null, WanLink.NONE);
    }

    public AdminHooks withTraffic(TrafficStats t) {
        return new AdminHooks(t, applyTriggers, listeners, meters, random, reload, link);
    }

    public AdminHooks withTriggers(Consumer<List<TriggerRule>> apply) {
        return new AdminHooks(traffic, apply, listeners, meters, random, reload, link);
    }

    public AdminHooks withListeners(Supplier<List<Listener>> l) {
        return new AdminHooks(traffic, applyTriggers, l, meters, random, reload, link);
    }

    public AdminHooks withReload(Supplier<ReloadReport> r) {
        return new AdminHooks(traffic, applyTriggers, listeners, meters, random, r, link);
    }

    /** The WAN link the status shows. */
    public AdminHooks withLink(WanLink l) {
        return new AdminHooks(traffic, applyTriggers, listeners, meters, random, reload, l);
    }

    public AdminHooks withMeters(List<MeterBinder> m) {
        return new AdminHooks(traffic, applyTriggers, listeners, m, random, reload, link);
    }
}
