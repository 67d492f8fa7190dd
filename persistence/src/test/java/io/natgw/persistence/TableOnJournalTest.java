package io.natgw.persistence;

import io.natgw.conf.Protocol;
import ch.qos.logback.classic.Level;
import io.natgw.conf.NatgwConfig;
import io.natgw.core.Budgets;
import io.natgw.core.Endpoint;
import io.natgw.core.Forwarder;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import io.natgw.core.MappingRequest;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;
import io.natgw.testsupport.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import static io.natgw.persistence.Rows.T0;
import static io.natgw.persistence.Rows.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The table on the journal: what a restart of the gateway sees. */
class TableOnJournalTest {

    @TempDir
    Path dir;

    private MappingTable table(Instant now) throws IOException {
        Clock clock = Clock.fixed(now, ZoneOffset.UTC);
        return new MappingTable(TableConfigs.forLoad(dir), JournalLeaseStore.open(dir, clock), Forwarder.NONE, clock);
    }

    @Test
    void aRestartRestoresLiveRowsDropsExpiredLeasesAndContinuesTheEpoch() throws IOException {
        Owner client = Owner.of(ip("127.0.0.5"), Origin.PCP);
        Owner admin = Owner.of(ip("127.0.0.1"), Origin.ADMIN);
        MappingTable first = table(T0);
        assertEquals(new MappingTable.Startup(0, 0, 0, false), first.start());
        Outcome shortLease = first.apply(MappingRequest.Map.dynamic(client, Protocol.TCP, new Endpoint(client.address(), 6000),
                6000, Duration.ofHours(1)));
        Outcome longLease = first.apply(MappingRequest.Map.dynamic(client, Protocol.UDP, new Endpoint(client.address(), 6001),
                6001, Duration.ofHours(20)));
        Outcome web = first.apply(new MappingRequest.Map(admin, Protocol.TCP, new Endpoint(ip("127.0.0.9"), 80), 8080,
                RemoteFilter.ANY, Duration.ZERO, Kind.STATIC, "web server", "", MappingRequest.OnConflict.FAIL, true, false));
        assertInstanceOf(Outcome.Granted.class, shortLease);
        Instant epoch = first.epochStart();
        first.close();

        MappingTable second = table(T0.plus(Duration.ofHours(2)));
        try {
            assertEquals(new MappingTable.Startup(2, 1, 0, true), second.start());
            assertEquals(epoch, second.epochStart(), "state survived: the epoch goes on");
            List<Mapping> expected = List.of(((Outcome.Granted) longLease).mapping(), ((Outcome.Granted) web).mapping());
            assertEquals(expected.stream().sorted((a, b) -> a.key().compareTo(b.key())).toList(), second.view().mappings());
            assertEquals(java.util.Optional.empty(), second.find(MappingKey.of(Protocol.TCP, 6000)));
        } finally {
            second.close();
        }
    }

    @Test
    void theTableLogsItsSizeLimitDerivedFromTheOpenFilesLimitAtStart() throws IOException {
        NatgwConfig load = TableConfigs.forLoad(dir);
        NatgwConfig relaying = new NatgwConfig(load.source(), load.network(), dir, load.pcp(), load.upnp(), load.admin(),
                new NatgwConfig.Limits(true, 64, NatgwConfig.Limits.AUTO, 256, 24, 64), load.permissions(), List.of(), List.of(),
                new NatgwConfig.Dataplane(true, NatgwConfig.DataplaneMode.USERSPACE, NatgwConfig.RelayMode.COPY,
                        Duration.ofSeconds(5), Duration.ofSeconds(120), 256, false));
        Clock clock = Clock.fixed(T0, ZoneOffset.UTC);
        long openFiles = Budgets.openFilesLimit();
        try (LogCapture logs = new LogCapture(MappingTable.class);
             MappingTable t = new MappingTable(relaying, JournalLeaseStore.open(dir, clock), Forwarder.NONE, clock)) {
            t.start();
            assertEquals(Budgets.fromOpenFiles(openFiles), t.maxMappings());
            assertTrue(logs.lines(Level.INFO).contains("maxMappings " + t.maxMappings() + " (from the open-files limit "
                    + openFiles + ")"), logs.lines(Level.INFO)::toString);
        }
    }
}
