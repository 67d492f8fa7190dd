package io.natgw.gateway.admin;

import java.time.Duration;

/**
 * What one admin client can make the listener hold. A connection has {@code headTimeout} from connect (TLS
 * handshake included) or from its previous answer to send a complete request head, then {@code bodyTimeout}
 * for the body; at most {@code maxConnections} connections are open, {@code maxPerClient} from one address.
 * Connections over a cap are closed at once. The event stream is exempt from the deadlines once it is open
 * (it has its own cap, {@link TableEvents#MAX_SUBSCRIBERS}).
 */
public record AdminLimits(Duration headTimeout, Duration bodyTimeout, int maxConnections, int maxPerClient) {

    /** 10 s for the head, 10 s for the body, 256 connections, 16 per client address. */
    public static final AdminLimits DEFAULT = new AdminLimits(Duration.ofSeconds(10), Duration.ofSeconds(10), 256, 16);
}
