package io.natgw.gateway.wan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The STUN retry schedule: first, doubling, capped, jittered within [half, whole], reset by an answer. */
class StunBackoffTest {

    private static final Duration FIRST = Duration.ofSeconds(1);
    private static final Duration CAP = Duration.ofMinutes(5);

    private static List<Duration> waits(StunBackoff b, int n) {
        List<Duration> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(b.failed());
        }
        return out;
    }

    private static List<Duration> seconds(long... s) {
        return java.util.Arrays.stream(s).mapToObj(Duration::ofSeconds).toList();
    }

    @Test
    void withoutJitterItDoublesFromTheFirstWaitUpToTheCapAndStaysThere() {
        assertEquals(seconds(1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300),
                waits(new StunBackoff(FIRST, CAP, () -> 0.0), 12));
    }

    @Test
    void jitterTakesAtMostHalfOfEachStep() {
        assertEquals(Stream.of(500L, 1000L, 2000L, 4000L, 8000L, 16000L, 32000L, 64000L, 128000L, 150000L, 150000L)
                .map(Duration::ofMillis).toList(), waits(new StunBackoff(FIRST, CAP, () -> 1.0), 11));
    }

    @Test
    void everyWaitIsBoundedBelowAndAboveWhateverTheRandomPart() {
        Random r = new Random(7);
        StunBackoff b = new StunBackoff(FIRST, CAP, r::nextDouble);
        for (Duration d : waits(b, 1000)) {
            assertTrue(d.compareTo(FIRST.dividedBy(2)) >= 0 && d.compareTo(CAP) <= 0, d.toString());
        }
    }

    @Test
    void anAnswerResetsItToTheFirstWait() {
        StunBackoff b = new StunBackoff(FIRST, CAP, () -> 0.0);
        waits(b, 20);
        b.reset();
        assertEquals(seconds(1, 2, 4), waits(b, 3));
    }

    @Test
    void aFirstWaitAboveTheCapIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new StunBackoff(Duration.ofMinutes(6), CAP, () -> 0.0));
        assertThrows(IllegalArgumentException.class, () -> new StunBackoff(Duration.ZERO, CAP, () -> 0.0));
    }
}
