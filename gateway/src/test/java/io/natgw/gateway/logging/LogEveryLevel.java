package io.natgw.gateway.logging;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Run in a child JVM by {@link JournalLoggingTest}: one line per level through the daemon's own logback.xml. */
public final class LogEveryLevel {

    private LogEveryLevel() {
    }

    public static void main(String[] args) {
        Logger log = LoggerFactory.getLogger("io.natgw.gateway.Probe");
        log.error("an error");
        log.warn("a warning");
        log.info("an info");
        log.debug("a debug");
    }
}
