package io.natgw.dataplane;

import io.natgw.core.TestClock;

import io.natgw.conf.PortRanges;
import io.natgw.conf.Protocol;
import io.natgw.conf.TriggerRule;
import io.natgw.core.Forwarder;
import io.natgw.core.InMemoryLeaseStore;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Owner;
import io.natgw.dataplane.TriggerEngine.Result;
import io.natgw.dataplane.TriggerEngine.RuleStats;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;

import static io.natgw.dataplane.Fixture.addr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TriggerEngineTest {

    static final InetAddress HOST_A = addr("127.0.0.10");
    static final InetAddress HOST_B = addr("127.0.0.11");
    static final TriggerRule IDENT = new TriggerRule("IRC IDENT", EnumSet.of(Protocol.TCP), PortRanges.parse("6660-7000"),
            EnumSet.of(Protocol.TCP), PortRanges.parse("113"), Duration.ofSeconds(30), true);
    static final MappingKey PORT_113 = MappingKey.of(Protocol.TCP, 113);

    final TestClock clock = new TestClock();
    MappingTable table;
    TriggerEngine engine;

    @BeforeEach
    void start() throws Exception {
        var config = Fixture.config("enabled: false", "");
        table = new MappingTable(config, new InMemoryLeaseStore(), Forwarder.NONE, clock);
        engine = new TriggerEngine(List.of(IDENT), clock);
        engine.attach(table);
        table.start();
    }

    @AfterEach
    void stop() throws Exception {
        table.close();
    }

    Mapping holder() {
        return table.view().find(PORT_113).orElse(null);
    }

    @Test
    void anOutboundFlowToATriggerPortOpensTheIncomingPortsToThatHost() throws Exception {
        assertEquals(Result.NO_RULE, engine.outbound(Protocol.TCP, HOST_A, 80).get());
        assertEquals(Result.NO_RULE, engine.outbound(Protocol.UDP, HOST_A, 6667).get());
        assertEquals(null, holder());

        assertEquals(Result.OPENED, engine.outbound(Protocol.TCP, HOST_A, 6667).get());

        Mapping m = holder();
        assertEquals(new io.natgw.core.Endpoint(HOST_A, 113), m.internal());
        assertEquals(Kind.TRIGGERED, m.kind());
        assertEquals(Owner.of(HOST_A, Origin.TRIGGER), m.owner());
        assertEquals("trigger: IRC IDENT", m.description());
        assertEquals(clock.instant().plus(Duration.ofSeconds(30)), m.expiresAt());
    }

    @Test
    void oneHostAtATimeThenTheNextTriggerWinsOnceThePortsClose() throws Exception {
        assertEquals(Result.OPENED, engine.outbound(Protocol.TCP, HOST_A, 6667).get());
        assertEquals(Result.REFUSED, engine.outbound(Protocol.TCP, HOST_B, 6697).get());
        assertEquals(HOST_A, holder().internal().address());

        clock.advance(Duration.ofSeconds(31));
        assertEquals(1, table.expireDue().get());
        assertEquals(null, holder());

        assertEquals(Result.OPENED, engine.outbound(Protocol.TCP, HOST_B, 6667).get());
        assertEquals(HOST_B, holder().internal().address());
        assertEquals(Map.of("IRC IDENT", new RuleStats(3, 2, 0, 1)), engine.stats());
    }

    @Test
    void triggerAndIncomingTrafficRenewTheLeaseAtMostOncePerTenthOfTheTimeout() throws Exception {
        assertEquals(Result.OPENED, engine.outbound(Protocol.TCP, HOST_A, 6667).get());
        assertEquals(Result.RATE_LIMITED, engine.outbound(Protocol.TCP, HOST_A, 6667).get());

        clock.advance(Duration.ofSeconds(3));
        assertEquals(Result.REFRESHED, engine.outbound(Protocol.TCP, HOST_A, 6667).get());
        assertEquals(clock.instant().plus(Duration.ofSeconds(30)), holder().expiresAt());

        clock.advance(Duration.ofSeconds(25));
        assertEquals(Result.REFRESHED, engine.incomingTraffic(holder()).get());
        clock.advance(Duration.ofSeconds(25));
        table.expireDue().get();
        assertEquals(HOST_A, holder().internal().address(), "still open: incoming traffic renewed it 25 s ago");

        clock.advance(Duration.ofSeconds(6));
        table.expireDue().get();
        assertEquals(null, holder(), "closed 30 s after the last traffic");
    }

    @Test
    void manyDistinctHostsLeaveTheRateLimiterBounded() throws Exception {
        int hosts = TriggerEngine.MAX_RATE_LIMITED + 500;
        List<java.util.concurrent.CompletableFuture<Result>> results = new java.util.ArrayList<>();
        for (int i = 0; i < hosts; i++) {
            InetAddress host = InetAddress.getByAddress(new byte[] {10, 0, (byte) (i >> 8), (byte) i});
            results.add(engine.outbound(Protocol.TCP, host, 6667));
        }
        long limited = results.stream().map(java.util.concurrent.CompletableFuture::join)
                .filter(r -> r == Result.RATE_LIMITED).count();
        assertEquals(TriggerEngine.MAX_RATE_LIMITED, engine.rateLimited(), "the limiter stops at its cap");
        assertEquals(500, limited, "hosts past the cap wait for a slot");

        clock.advance(Duration.ofSeconds(3));
        assertTrue(engine.outbound(Protocol.TCP, HOST_B, 6667).get() != Result.RATE_LIMITED,
                "a slot frees once the others' tenth of the timeout has passed");
        assertEquals(1, engine.rateLimited(), "pairs past their deadline are dropped");
    }

    @Test
    void rulesChangeAtRuntimeAndConflictingRulesAreRefused() throws Exception {
        TriggerRule other = new TriggerRule("Other", EnumSet.of(Protocol.UDP), PortRanges.parse("5000"),
                EnumSet.of(Protocol.UDP), PortRanges.parse("5001-5002"), Duration.ofSeconds(60), true);
        engine.setRules(List.of(other));
        assertEquals(Result.NO_RULE, engine.outbound(Protocol.TCP, HOST_A, 6667).get());
        assertEquals(Result.OPENED, engine.outbound(Protocol.UDP, HOST_A, 5000).get());
        assertEquals(2, table.view().size());

        TriggerRule clash = new TriggerRule("Clash", EnumSet.of(Protocol.UDP), PortRanges.parse("4999-5000"),
                EnumSet.of(Protocol.UDP), PortRanges.parse("6000"), Duration.ofSeconds(60), true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> engine.setRules(List.of(other, clash)));
        assertTrue(e.getMessage().contains("Clash") && e.getMessage().contains("Other"), e.getMessage());
        assertEquals(List.of(other), engine.rules());
    }

    @Test
    void aPartlyRefusedRuleGivesBackWhatItOpened() throws Exception {
        TriggerRule two = new TriggerRule("Two", EnumSet.of(Protocol.TCP), PortRanges.parse("7000"),
                EnumSet.of(Protocol.TCP), PortRanges.parse("113-114"), Duration.ofSeconds(60), true);
        engine.setRules(List.of(IDENT.withEnabled(false), two));
        // Host B holds 113 through a rule that is gone now; A's trigger of "Two" gets 114 only, so gives it back.
        engine.setRules(List.of(IDENT));
        assertEquals(Result.OPENED, engine.outbound(Protocol.TCP, HOST_B, 6667).get());
        engine.setRules(List.of(IDENT.withEnabled(false), two));
        assertEquals(Result.REFUSED, engine.outbound(Protocol.TCP, HOST_A, 7000).get());
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> table.view().size() == 1);
        assertEquals(HOST_B, holder().internal().address());
    }
}
