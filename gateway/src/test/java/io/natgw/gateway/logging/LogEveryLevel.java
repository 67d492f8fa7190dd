package io.natgw.gateway.logging;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Run in a child JVM by {@link JournalLoggingTest}: one line per level through the daemon's own logging set-up
 * ({@link NatgwLogConfigurator}); jupnp's and Netty's INFO lines must not show. */
public final class LogEveryLevel {

    private LogEveryLevel() {
    }

    public static void main(String[] args) {
        Logger log = LoggerFactory.getLogger("io.natgw.gateway.Probe");
        log.error("an error");
        log.warn("a warning");
        log.info("an info");
        log.debug("a debug");
        LoggerFactory.getLogger("org.jupnp.Probe").info("jupnp info");
        LoggerFactory.getLogger("io.netty.Probe").info("netty info");
    }
}
