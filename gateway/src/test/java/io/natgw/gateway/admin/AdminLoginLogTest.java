package io.natgw.gateway.admin;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.natgw.core.MappingTable;
import io.natgw.core.TableListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Failed admin logins are logged at WARN with the client address, at most one line per window with the count
 * of those not shown (issue 10); the admin server removes its table listener when it closes (issue 11).
 */
class AdminLoginLogTest {

    @TempDir
    Path dataDir;

    @Test
    void failedLoginsAreWarnedRateLimitedWithTheClientAddress() throws Exception {
        Logger log = (Logger) LoggerFactory.getLogger(FailedLogins.class);
        ListAppender<ILoggingEvent> seen = new ListAppender<>();
        seen.start();
        log.addAppender(seen);
        try (AdminFixture f = new AdminFixture(dataDir, true)) {
            for (int i = 0; i < 5; i++) {
                assertEquals(403, f.call("GET", "/api/v1/status", null, "wrong-token").status());
            }
            assertEquals(401, f.call("GET", "/api/v1/status", null, null).status());
            List<ILoggingEvent> warns = seen.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
            assertEquals(1, warns.size(), "one line per window: " + seen.list);
            assertTrue(warns.get(0).getFormattedMessage().contains("failed admin login from 127.0.0.1"), warns.get(0).getFormattedMessage());

            f.clock.advance(Duration.ofMillis(FailedLogins.WINDOW_MILLIS));
            assertEquals(403, f.call("GET", "/api/v1/status", null, "wrong-token").status());
            List<ILoggingEvent> after = seen.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
            assertEquals(2, after.size(), seen.list.toString());
            assertTrue(after.get(1).getFormattedMessage().contains("5 more failed logins not shown"), after.get(1).getFormattedMessage());
        } finally {
            log.detachAppender(seen);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void closeRemovesTheTableListener() throws Exception {
        AdminFixture f = new AdminFixture(dataDir, true);
        var field = MappingTable.class.getDeclaredField("listeners");
        field.setAccessible(true);
        List<TableListener> listeners = (List<TableListener>) field.get(f.table);
        int open = listeners.size();
        f.server.close();
        assertEquals(open - 1, listeners.size(), "the event stream's listener is gone");
        f.table.close();
    }
}
