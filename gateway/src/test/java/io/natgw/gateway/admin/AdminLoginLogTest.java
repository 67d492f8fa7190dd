package io.natgw.gateway.admin;

import ch.qos.logback.classic.Level;
import io.natgw.core.MappingTable;
import io.natgw.core.TableListener;
import io.natgw.testsupport.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
        try (LogCapture seen = new LogCapture(FailedLogins.class); AdminFixture f = new AdminFixture(dataDir, true)) {
            for (int i = 0; i < 5; i++) {
                assertEquals(403, f.call("GET", "/api/v1/status", null, "wrong-token").status());
            }
            assertEquals(401, f.call("GET", "/api/v1/status", null, null).status());
            List<String> warns = seen.lines(Level.WARN);
            assertEquals(1, warns.size(), "one line per window: " + seen.events());
            assertTrue(warns.get(0).contains("failed admin login from 127.0.0.1"), warns.get(0));

            f.clock.advance(Duration.ofMillis(FailedLogins.WINDOW_MILLIS));
            assertEquals(403, f.call("GET", "/api/v1/status", null, "wrong-token").status());
            List<String> after = seen.lines(Level.WARN);
            assertEquals(2, after.size(), seen.events().toString());
            assertTrue(after.get(1).contains("5 more failed logins not shown"), after.get(1));
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
