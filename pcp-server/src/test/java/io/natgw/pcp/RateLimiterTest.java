package io.natgw.pcp;

import io.natgw.core.TestClock;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-client token buckets, and their bound when one IPv6 host sends from ever new addresses of its /64. */
class RateLimiterTest {

    @Test
    void aClientGetsItsRateAndBurst() {
        TestClock clock = new TestClock(Instant.parse("2026-05-01T10:00:00Z"));
        RateLimiter limiter = new RateLimiter(3, clock);
        InetAddress a = v6(1);
        assertEquals(List.of(true, true, true, false), List.of(limiter.tryAcquire(a), limiter.tryAcquire(a),
                limiter.tryAcquire(a), limiter.tryAcquire(a)));
        clock.advance(Duration.ofMillis(334));
        assertTrue(limiter.tryAcquire(a), "a token back after a third of a second");
    }

    @Test
    void aFloodOfNewSourceAddressesIsBoundedAndKnownClientsAreStillServed() {
        TestClock clock = new TestClock(Instant.parse("2026-05-01T10:00:00Z"));
        RateLimiter limiter = new RateLimiter(50, clock);
        InetAddress known = v6(0);
        assertTrue(limiter.tryAcquire(known));
        int admitted = 1;
        for (int i = 1; i <= RateLimiter.MAX_CLIENTS + 1000; i++) { // one host, spoofing fd00:77::/64 within a second
            if (limiter.tryAcquire(v6(i))) {
                admitted++;
            }
        }
        assertEquals(RateLimiter.MAX_CLIENTS, admitted, "never more buckets than the bound");
        assertTrue(limiter.tryAcquire(known), "a client known before the flood is still served");
        // once the flood's buckets are a second idle they are forgotten, and new clients are admitted again
        clock.advance(Duration.ofMillis(1001));
        assertTrue(limiter.tryAcquire(v6(RateLimiter.MAX_CLIENTS + 5000)));
    }

    private static InetAddress v6(int n) {
        try {
            return InetAddress.getByName("fd00:77::" + Integer.toHexString(n >>> 16) + ":" + Integer.toHexString(n & 0xffff));
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
