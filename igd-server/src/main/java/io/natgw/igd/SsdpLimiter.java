package io.natgw.igd;

import java.net.InetAddress;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

/**
 * How many M-SEARCHes are answered: a token bucket per source address ({@value #PER_SOURCE_PER_SECOND}/s,
 * bursts of {@value #PER_SOURCE_BURST}) and one for all sources together ({@value #TOTAL_PER_SECOND}/s, bursts of
 * {@value #TOTAL_BURST}). With at most two answers of a few hundred bytes per search, a flood of spoofed searches
 * can make the gateway send at most about {@value #TOTAL_PER_SECOND} × 2 datagrams a second. Time from the
 * injected clock; idle sources are forgotten once many are tracked.
 */
final class SsdpLimiter {

    static final int PER_SOURCE_PER_SECOND = 10;
    static final int PER_SOURCE_BURST = 20;
    static final int TOTAL_PER_SECOND = 100;
    static final int TOTAL_BURST = 100;
    private static final int FORGET_ABOVE = 1024;

    private final Clock clock;
    private final Map<InetAddress, Bucket> sources = new HashMap<>();
    private final Bucket total;

    private static final class Bucket {
        final int perSecond;
        final int burst;
        double tokens;
        long lastMillis;

        Bucket(int perSecond, int burst, long now) {
            this.perSecond = perSecond;
            this.burst = burst;
            this.tokens = burst;
            this.lastMillis = now;
        }

        void refill(long now) {
            long elapsed = Math.max(0, now - lastMillis);
            tokens = Math.min(burst, tokens + elapsed * perSecond / 1000.0);
            lastMillis = Math.max(lastMillis, now);
        }
    }

    SsdpLimiter(Clock clock) {
        this.clock = clock;
        this.total = new Bucket(TOTAL_PER_SECOND, TOTAL_BURST, clock.millis());
    }

    /** Takes a token from the source's bucket and the total one; false (and nothing taken) when either is empty. */
    synchronized boolean tryAcquire(InetAddress source) {
        long now = clock.millis();
        if (sources.size() > FORGET_ABOVE) {
            sources.values().removeIf(b -> now - b.lastMillis > 10_000);
        }
        Bucket b = sources.computeIfAbsent(source, s -> new Bucket(PER_SOURCE_PER_SECOND, PER_SOURCE_BURST, now));
        b.refill(now);
        total.refill(now);
        if (b.tokens < 1 || total.tokens < 1) {
            return false;
        }
        b.tokens -= 1;
        total.tokens -= 1;
        return true;
    }
}
