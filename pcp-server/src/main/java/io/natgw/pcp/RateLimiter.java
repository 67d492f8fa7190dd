package io.natgw.pcp;

import java.net.InetAddress;
import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A token bucket per client address: {@code perSecond} requests per second, bursts of up to {@code perSecond}.
 * Time from the injected clock. Idle buckets are forgotten once the map grows large, and it never holds more than
 * {@link #MAX_CLIENTS}: an IPv6 LAN host can send from as many addresses of its /64 as it likes, so while that many
 * clients were active within the last second, a datagram from yet another address is dropped (the clients already
 * known keep their buckets and are served).
 */
final class RateLimiter {

    private static final int FORGET_ABOVE = 4096;
    static final int MAX_CLIENTS = 16_384;

    private final int perSecond;
    private final Clock clock;
    private final ConcurrentHashMap<InetAddress, Bucket> buckets = new ConcurrentHashMap<>();

    private static final class Bucket {
        double tokens;
        long lastMillis;

        Bucket(double tokens, long lastMillis) {
            this.tokens = tokens;
            this.lastMillis = lastMillis;
        }
    }

    /** @param perSecond 0 or less: no limit */
    RateLimiter(int perSecond, Clock clock) {
        this.perSecond = perSecond;
        this.clock = clock;
    }

    /** Takes a token for this client; false when it has none left (the datagram is dropped unanswered). */
    boolean tryAcquire(InetAddress client) {
        if (perSecond <= 0) {
            return true;
        }
        long now = clock.millis();
        if (buckets.size() > FORGET_ABOVE) {
            buckets.values().removeIf(b -> now - b.lastMillis > 1000);
        }
        Bucket b = buckets.get(client);
        if (b == null) {
            if (buckets.size() >= MAX_CLIENTS) {
                return false;
            }
            b = buckets.computeIfAbsent(client, c -> new Bucket(perSecond, now));
        }
        synchronized (b) {
            long elapsed = Math.max(0, now - b.lastMillis);
            b.tokens = Math.min(perSecond, b.tokens + elapsed * perSecond / 1000.0);
            b.lastMillis = Math.max(b.lastMillis, now);
            if (b.tokens >= 1) {
                b.tokens -= 1;
                return true;
            }
            return false;
        }
    }
}
