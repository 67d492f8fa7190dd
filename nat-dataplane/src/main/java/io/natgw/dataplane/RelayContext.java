package io.natgw.dataplane;

import io.natgw.conf.NatgwConfig;
import io.netty.channel.EventLoopGroup;

import java.time.Clock;
import java.util.function.Consumer;

/**
 * What every listener shares: the transport and its event loops, the dataplane settings and tuning, the clock, a hook
 * told about traffic on a route (the trigger engine refreshes triggered mappings from it), and the budgets of
 * connections and sessions, and the listeners' registrations waiting for the end of the table's batch.
 */
record RelayContext(Transport transport, EventLoopGroup group, NatgwConfig.Dataplane settings, RelayTuning tuning,
                    Clock clock, Consumer<Route> onTraffic, RelayBudget budget, Registrations registrations) {

    RelayContext(Transport transport, EventLoopGroup group, NatgwConfig.Dataplane settings, RelayTuning tuning,
                 Clock clock, Consumer<Route> onTraffic) {
        this(transport, group, settings, tuning, clock, onTraffic,
                new RelayBudget(settings.budgets(), settings.udpSessionsPerMapping(), clock), new Registrations());
    }
}
