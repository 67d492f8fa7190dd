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
    /** Connections relayed without Netty channels ({@link DirectTcpRelay}). */
    final Set<DirectTcpRelay> direct = ConcurrentHashMap.newKeySet();

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

    /** Registers a connection relayed without Netty channels, until {@link #untrack}. */
    void track(DirectTcpRelay relay) {
        direct.add(relay);
        meter.session(1);
    }

    void untrack(DirectTcpRelay relay) {
        if (direct.remove(relay)) {
            meter.session(-1);
        }
    }

    void cut() {
        for (Channel ch : channels) {
            ch.close();
        }
        for (DirectTcpRelay relay : direct) {
            relay.cut();
        }
    }

    @Override
    public String toString() {
        return mapping.toString();
    }
}
