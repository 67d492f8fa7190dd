package io.natgw.gateway.wan;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * When to ask a STUN server again after a round with no answer: {@code first}, doubling each time up to {@code cap},
 * less a random part of up to half of it (jitter, so that routers restarted together do not ask in step). An answer
 * resets it. Every wait lies in [first / 2, cap]: the retries of a server that never answers are bounded in rate.
 * No clock, no thread: the random part is given.
 */
final class StunBackoff {

    private final Duration first;
    private final Duration cap;
    private final DoubleSupplier random;
    private Duration step;

    /** @param random values in [0, 1) */
    StunBackoff(Duration first, Duration cap, DoubleSupplier random) {
        if (first.isNegative() || first.isZero() || cap.compareTo(first) < 0) {
            throw new IllegalArgumentException("backoff from " + first + " up to " + cap + " (expected: 0 < first <= cap)");
        }
        this.first = first;
        this.cap = cap;
        this.random = random;
        this.step = first;
    }

    /** The wait before the next round, after one with no answer; the next failure waits (up to) twice as long. */
    Duration failed() {
        long ms = step.toMillis();
        double r = Math.min(Math.max(random.getAsDouble(), 0), 1);
        step = step.multipliedBy(2).compareTo(cap) > 0 ? cap : step.multipliedBy(2);
        return Duration.ofMillis(ms - (long) (ms / 2 * r));
    }

    /** An answer came: the next failure waits {@code first} again. */
    void reset() {
        step = first;
    }
}
