package io.natgw.gateway.admin;

import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.MappingRequest;
import io.natgw.core.Origin;
import io.natgw.core.Owner;
import io.natgw.dataplane.TriggerEngine;
import io.natgw.persistence.JournalLeaseStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code /metrics} with the real journal and trigger engine behind it: fsync latency and trigger hits/refusals. */
class GatewayMetersTest {

    @TempDir
    Path dataDir;

    @Test
    void journalFsyncsAndTriggerHitsAndRefusalsAreExported() throws Exception {
        JournalLeaseStore journal = JournalLeaseStore.open(dataDir.resolve("j"), java.time.Clock.systemUTC());
        TriggerEngine[] holder = new TriggerEngine[1];
        try (AdminFixture f = new AdminFixture(dataDir.resolve("d"), false, journal,
                h -> h.withMeters(List.of(GatewayMeters.journal(journal), GatewayMeters.triggers(() -> holder[0].stats()))))) {
            holder[0] = f.triggers;
            InetAddress a = InetAddress.getByName("127.0.0.50");
            InetAddress b = InetAddress.getByName("127.0.0.51");
            f.table.apply(MappingRequest.Map.dynamic(Owner.of(a, Origin.NATPMP), Protocol.TCP, new Endpoint(a, 9000), 9000,
                    Duration.ofSeconds(60)));
            assertEquals(TriggerEngine.Result.OPENED, f.triggers.outbound(Protocol.TCP, a, 6667).get());
            assertEquals(TriggerEngine.Result.REFUSED, f.triggers.outbound(Protocol.TCP, b, 6668).get(), "one host at a time");
            String text = f.call("GET", "/metrics", null).text();
            assertEquals(2.0, value(text, "natgw_trigger_hits_total{rule=\"IRC IDENT\"}"), text);
            assertEquals(1.0, value(text, "natgw_trigger_refusals_total{rule=\"IRC IDENT\"}"), text);
            assertTrue(value(text, "natgw_journal_fsync_seconds_count") >= 2, text);
            assertTrue(value(text, "natgw_journal_fsync_seconds_sum") > 0, text);
            assertTrue(value(text, "natgw_journal_commits_total") >= 2, text);
            assertTrue(text.contains("natgw_journal_fsync_quantile_seconds{quantile=\"0.99\"}"), text);
            assertEquals(1.0, value(text, "natgw_mappings{kind=\"triggered\",protocol=\"tcp\"}"), text);
        }
    }

    private static double value(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }
}
