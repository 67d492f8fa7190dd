package io.natgw.testsupport;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.EngineExecutionResults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/** A prerequisite missing in @BeforeAll: each test is counted as skipped with its reason, the class is not lost. */
class BeforeAllSkipsTest {

    static class ToolMissing {
        static boolean skipped;
        static int setUpsAfterTheSkip;

        @BeforeAll
        static void start() {
            skipped = true;
            Assumptions.assumeTrue(false, "'upnpc' is not installed");
        }

        @BeforeAll
        static void second() {
            if (skipped) {
                setUpsAfterTheSkip++;
            }
        }

        @Test
        void one() {
        }

        @Test
        void two() {
        }
    }

    static class RequiredToolMissing {
        @BeforeAll
        static void start() {
            throw new AssertionError("NATGW_REQUIRE_ALL=1 and 'upnpc' is not installed");
        }

        @Test
        void one() {
        }
    }

    private static EngineExecutionResults run(Class<?> fixture) {
        return EngineTestKit.engine("junit-jupiter")
                .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
                .selectors(selectClass(fixture)).execute();
    }

    @Test
    void anAssumptionInBeforeAllSkipsEachTestWithItsReason() {
        ToolMissing.skipped = false;
        ToolMissing.setUpsAfterTheSkip = 0;
        EngineExecutionResults events = run(ToolMissing.class);
        assertEquals(2, events.testEvents().skipped().count(), events.allEvents().toString());
        events.testEvents().skipped().stream().forEach(e -> assertEquals(
                "'upnpc' is not installed (checked in start())", e.getPayload(String.class).orElseThrow()));
        assertEquals(0, events.testEvents().started().count());
        assertEquals(0, events.containerEvents().aborted().count() + events.containerEvents().failed().count());
        assertEquals(0, ToolMissing.setUpsAfterTheSkip, "the class's other @BeforeAll methods must not run");
    }

    @Test
    void aFailureInBeforeAllStillFailsTheClass() {
        EngineExecutionResults events = run(RequiredToolMissing.class);
        assertEquals(1, events.containerEvents().failed().count(), events.allEvents().toString());
        assertEquals(0, events.testEvents().skipped().count());
    }
}
