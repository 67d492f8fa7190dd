package io.natgw.pcp;

import io.natgw.core.Mapping;

import java.time.Clock;

/** The lifetime a response reports. */
final class Lifetimes {

    private Lifetimes() {
    }

    /**
     * Whole seconds left on a lease, rounded up: a lease granted for 3600 s and answered a few milliseconds
     * later still reads 3600, as the client asked.
     */
    static long secondsLeft(Mapping m, Clock clock) {
        long millis = m.remaining(clock.instant()).toMillis();
        return (millis + 999) / 1000;
    }
}
