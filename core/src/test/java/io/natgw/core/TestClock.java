package io.natgw.core;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A clock tests move by hand, so leases, epochs and idle timers are tested without waiting. Shared with the
 * other modules' tests through core's test-jar.
 */
public final class TestClock extends Clock {

    /** Where a clock starts when a test does not care. */
    public static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

    private volatile Instant now;

    public TestClock(Instant start) {
        this.now = start;
    }

    public TestClock() {
        this(START);
    }

    public void advance(Duration d) {
        now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Instant instant() {
        return now;
    }
}
