package io.natgw.dataplane;

import io.natgw.core.Mapping;
import io.netty.channel.Channel;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One mapping as the listener of its port serves it: where to relay, what to count, and the connections or UDP
 * sessions it opened (closed with it only when {@code cutOnDelete} is set).
 */
final class Route {

    final Mapping mapping;
    final Meter meter;
    final Set<Channel> channels = ConcurrentHashMap.newKeySet();

    Route(Mapping mapping, Meter meter) {
        this.mapping = mapping;
        this.meter = meter;
    }

    /** Registers a connection (or session channel) of this route; it unregisters itself when it closes. */
    void track(Channel ch) {
        channels.add(ch);
        meter.session(1);
        ch.closeFuture().addListener(f -> {
            channels.remove(ch);
            meter.session(-1);
        });
    }

    void cut() {
        for (Channel ch : channels) {
            ch.close();
        }
    }

    @Override
    public String toString() {
        return mapping.toString();
    }
}
