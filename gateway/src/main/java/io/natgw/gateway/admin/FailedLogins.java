package io.natgw.gateway.admin;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.time.Clock;

/**
 * Failed admin logins (a missing or wrong bearer token on the API) at WARN with the client address, at most
 * one line per {@value #WINDOW_MILLIS} ms: the next line says how many more there were in between.
 */
final class FailedLogins {

    private static final Logger LOG = LoggerFactory.getLogger(FailedLogins.class);
    static final long WINDOW_MILLIS = 10_000;

    private final Clock clock;
    private long lastLogged = Long.MIN_VALUE;
    private int suppressed;

    FailedLogins(Clock clock) {
        this.clock = clock;
    }

    synchronized void failed(InetAddress client, String why) {
        long now = clock.millis();
        if (lastLogged != Long.MIN_VALUE && now - lastLogged < WINDOW_MILLIS) {
            suppressed++;
            return;
        }
        if (suppressed > 0) {
            LOG.warn("failed admin login from {}: {} ({} more failed logins not shown in the previous {} s)",
                    client.getHostAddress(), why, suppressed, WINDOW_MILLIS / 1000);
        } else {
            LOG.warn("failed admin login from {}: {}", client.getHostAddress(), why);
        }
        lastLogged = now;
        suppressed = 0;
    }
}
