package io.natgw.gateway.admin;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.natgw.core.InMemoryLeaseStore;
import io.natgw.core.MappingKey;
import io.natgw.core.TrafficStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A bug behind the admin API (issue 11): the client gets a 500 with a JSON error instead of a dropped
 * connection, and the failure is logged at ERROR with its stack trace. The bug is injected as a traffic source
 * whose counters throw, which every mapping listing reads.
 */
class AdminFailuresTest {

    @TempDir
    Path dataDir;

    /** Counters that fail like a bug would. */
    private static final TrafficStats BROKEN = new TrafficStats() {
        @Override
        public Counters totals() {
            throw new IllegalStateException("injected: counters broken");
        }

        @Override
        public Counters of(MappingKey key) {
            throw new IllegalStateException("injected: counters broken");
        }
    };

    @Test
    void aRuntimeExceptionBecomesA500WithJsonAndAnErrorWithItsStackTrace() throws Exception {
        Logger api = (Logger) LoggerFactory.getLogger(AdminApi.class);
        ListAppender<ILoggingEvent> seen = new ListAppender<>();
        seen.start();
        api.addAppender(seen);
        try (AdminFixture f = new AdminFixture(dataDir, false, new InMemoryLeaseStore(), h -> h.withTraffic(BROKEN))) {
            AdminFixture.Reply created = f.call("POST", "/api/v1/mappings",
                    "{\"protocol\":\"tcp\",\"externalPort\":7001,\"internalAddress\":\"127.0.0.1\",\"internalPort\":7001}");
            AdminFixture.Reply r = f.call("GET", "/api/v1/mappings", null);
            assertEquals(500, r.status(), "after POST " + created.status() + ": " + r.text());
            assertNotNull(r.json(), "a JSON body: " + r.text());
            assertTrue(r.error().contains("internal error"), r.text());
            ILoggingEvent e = seen.list.stream().filter(x -> x.getLevel() == Level.ERROR).findFirst().orElseThrow(
                    () -> new AssertionError("no ERROR logged: " + seen.list));
            assertNotNull(e.getThrowableProxy(), "the stack trace is logged");
            assertTrue(e.getThrowableProxy().getMessage().contains("injected"), e.getThrowableProxy().getMessage());
        } finally {
            api.detachAppender(seen);
        }
    }
}
