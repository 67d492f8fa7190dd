package io.natgw.dataplane;

import io.natgw.core.TestClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DivertFlowsTest {

    final TestClock clock = new TestClock();
    final List<String> closed = new ArrayList<>();

    @Test
    void aDivertedUdpFlowIdleForTheConfiguredUdpIdleTimeoutIsClosed() {
        DivertFlows<String, String> flows = new DivertFlows<>(Duration.ofSeconds(300), 100, clock, closed::add);
        DivertFlows.Entry<String> busy = flows.add("busy", "busy");
        flows.add("quiet", "quiet");

        clock.advance(Duration.ofSeconds(200));
        flows.touch(busy);
        assertEquals(0, flows.sweep(), "200 s idle is under the configured 300 s");
        assertEquals(2, flows.size());

        clock.advance(Duration.ofSeconds(100));
        assertEquals(1, flows.sweep());
        assertEquals(List.of("quiet"), closed, "the flow idle for 300 s is closed; the one used 100 s ago stays");
        assertEquals(1, flows.size());

        clock.advance(Duration.ofSeconds(200));
        assertEquals(1, flows.sweep());
        assertEquals(List.of("quiet", "busy"), closed);
        assertEquals(0, flows.size());
    }

    @Test
    void anIdleTimeoutUnderTwoMinutesIsRaisedToTheRfc4787Minimum() {
        DivertFlows<String, String> flows = new DivertFlows<>(Duration.ofSeconds(30), 100, clock, closed::add);
        flows.add("a", "a");
        assertEquals(Duration.ofSeconds(120), flows.idleTimeout());

        clock.advance(Duration.ofSeconds(119));
        assertEquals(0, flows.sweep());
        clock.advance(Duration.ofSeconds(1));
        assertEquals(1, flows.sweep());
        assertEquals(List.of("a"), closed);
    }

    @Test
    void anEndedFlowDropsOnlyItsOwnRow() {
        DivertFlows<String, String> flows = new DivertFlows<>(Duration.ofSeconds(120), 100, clock, closed::add);
        String old = new String("flow");
        flows.add("k", old);
        String newer = new String("flow");
        flows.add("k", newer);
        flows.remove("k", old);
        assertEquals(1, flows.size(), "the old flow's late close leaves the newer flow under the same key");
        flows.remove("k", newer);
        assertEquals(0, flows.size());
    }

    @Test
    void theTableHoldsNoMoreThanItsCapacityAndAnIdleFlowMakesRoom() {
        DivertFlows<String, String> flows = new DivertFlows<>(Duration.ofSeconds(120), 2, clock, closed::add);
        flows.add("a", "a");
        clock.advance(Duration.ofSeconds(60));
        flows.add("b", "b");
        assertTrue(flows.full(), "two flows fill a table of two");
        assertThrows(IllegalStateException.class, () -> flows.add("c", "c"), "a third flow is refused");
        assertEquals(2, flows.size());

        clock.advance(Duration.ofSeconds(60));
        assertEquals(1, flows.sweep(), "the flow idle for 120 s goes");
        assertFalse(flows.full());
        flows.add("c", "c");
        assertEquals(2, flows.size());
    }

    @Test
    void closingAllEndsEveryFlow() {
        DivertFlows<String, String> flows = new DivertFlows<>(Duration.ofSeconds(120), 10, clock, closed::add);
        flows.add("a", "a");
        flows.add("b", "b");
        flows.closeAll();
        assertEquals(0, flows.size());
        assertEquals(List.of("a", "b"), closed.stream().sorted().toList());
    }
}
