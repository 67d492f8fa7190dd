package io.natgw.gateway.admin;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.natgw.core.Change;
import io.natgw.core.ForwardingStore;
import io.natgw.core.InMemoryLeaseStore;
import io.natgw.core.MappingKey;
import io.natgw.core.MappingTable;
import io.natgw.core.TrafficStats;
import io.natgw.testsupport.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

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

    /** A store whose commit fails with a bug (not an I/O error): the table's writer hands it to the caller. */
    private static final class BrokenStore extends ForwardingStore {
        BrokenStore() {
            super(new InMemoryLeaseStore());
        }

        @Override
        public void commit(List<Change> changes) {
            throw new IllegalStateException("injected: store bug");
        }
    }

    @Test
    void aBugInTheStoreFailsClosedWith503AndItsStackTraceIsLogged() throws Exception {
        try (LogCapture seen = new LogCapture(MappingTable.class); AdminFixture f = new AdminFixture(dataDir, false, new BrokenStore(), h -> h)) {
            AdminFixture.Reply r = f.call("POST", "/api/v1/mappings",
                    "{\"protocol\":\"tcp\",\"externalPort\":7002,\"internalAddress\":\"127.0.0.1\",\"internalPort\":7002}");
            assertEquals(503, r.status(), r.text());
            assertTrue(r.error().contains("injected: store bug"), r.text());
            AdminFixture.Reply list = f.call("GET", "/api/v1/mappings", null);
            assertEquals(200, list.status(), list.text());
            assertTrue(!list.text().contains("7002"), "a refused request leaves no row: " + list.text());
            ILoggingEvent e = seen.events().stream().filter(x -> x.getLevel() == Level.ERROR).findFirst().orElseThrow(
                    () -> new AssertionError("no ERROR logged: " + seen.events()));
            assertNotNull(e.getThrowableProxy(), "the stack trace is logged");
        }
    }

    @Test
    void aRuntimeExceptionBecomesA500WithJsonAndAnErrorWithItsStackTrace() throws Exception {
        try (LogCapture seen = new LogCapture(AdminApi.class); AdminFixture f = new AdminFixture(dataDir, false, new InMemoryLeaseStore(), h -> h.withTraffic(BROKEN))) {
            AdminFixture.Reply created = f.call("POST", "/api/v1/mappings",
                    "{\"protocol\":\"tcp\",\"externalPort\":7001,\"internalAddress\":\"127.0.0.1\",\"internalPort\":7001}");
            AdminFixture.Reply r = f.call("GET", "/api/v1/mappings", null);
            assertEquals(500, r.status(), "after POST " + created.status() + ": " + r.text());
            assertNotNull(r.json(), "a JSON body: " + r.text());
            assertTrue(r.error().contains("internal error"), r.text());
            ILoggingEvent e = seen.events().stream().filter(x -> x.getLevel() == Level.ERROR).findFirst().orElseThrow(
                    () -> new AssertionError("no ERROR logged: " + seen.events()));
            assertNotNull(e.getThrowableProxy(), "the stack trace is logged");
            assertTrue(e.getThrowableProxy().getMessage().contains("injected"), e.getThrowableProxy().getMessage());
        }
    }
}
