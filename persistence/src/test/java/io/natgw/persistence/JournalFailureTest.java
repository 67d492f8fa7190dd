package io.natgw.persistence;

import io.natgw.conf.Protocol;
import io.natgw.core.Change;
import io.natgw.core.Endpoint;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import io.natgw.core.MappingRequest;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import io.natgw.core.RecordingForwarder;
import io.natgw.core.TableListener;
import io.natgw.core.TestClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static io.natgw.persistence.Rows.T0;
import static io.natgw.persistence.Rows.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 10 on the real journal: a write or an fsync that fails in the middle of a batch of several requests leaves
 * the table, the journal and the dataplane as before each failed request; removals still take effect; the journal
 * writes again by itself and converges, so a restart restores exactly what the table last showed.
 */
class JournalFailureTest {

    static final Owner A = Owner.of(ip("127.0.0.5"), Origin.PCP);
    static final Owner B = Owner.of(ip("127.0.0.6"), Origin.UPNP);
    static final Owner PLUG = Owner.of(ip("127.0.0.99"), Origin.PCP);

    @TempDir
    Path dir;

    final TestClock clock = new TestClock(T0);
    final RecordingForwarder forwarder = new RecordingForwarder();
    /** Holds the writer in the listener call of the plug's row, so that the next requests form one batch. */
    volatile CompletableFuture<Void> entered = new CompletableFuture<>();
    volatile CompletableFuture<Void> release = CompletableFuture.completedFuture(null);

    MappingTable open(JournalLeaseStore store) throws IOException {
        MappingTable t = new MappingTable(TableConfigs.forLoad(dir), store, forwarder, clock);
        t.addListener(forwarder);
        TableListener gate = changes -> {
            if (changes.stream().anyMatch(c -> c.type() == Change.Type.ADDED && c.after().owner().equals(PLUG))) {
                entered.complete(null);
                release.join();
            }
        };
        t.addListener(gate);
        t.start();
        return t;
    }

    /** Runs the requests as one batch; {@code whileHeld} runs once the writer is held, before they are queued. */
    List<Outcome> inOneBatch(MappingTable t, Runnable whileHeld, MappingRequest... requests) {
        CompletableFuture<Void> r = new CompletableFuture<>();
        entered = new CompletableFuture<>();
        release = r;
        CompletableFuture<Outcome> plug = t.submit(map(PLUG, 9999));
        entered.join();
        whileHeld.run();
        List<CompletableFuture<Outcome>> pending = new ArrayList<>();
        for (MappingRequest q : requests) {
            pending.add(t.submit(q));
        }
        r.complete(null);
        assertInstanceOf(Outcome.Granted.class, plug.join());
        return pending.stream().map(CompletableFuture::join).toList();
    }

    static MappingRequest.Map map(Owner o, int port) {
        MappingRequest.Map m = MappingRequest.Map.dynamic(o, Protocol.TCP, new Endpoint(o.address(), port), port, Duration.ofHours(1));
        return o.origin() == Origin.UPNP ? m.withOnConflict(MappingRequest.OnConflict.FAIL) : m;
    }

    static MappingRequest.Delete delete(Owner o, int port) {
        return new MappingRequest.Delete(o, MappingKey.of(Protocol.TCP, port));
    }

    static List<Integer> ports(List<Mapping> rows) {
        return rows.stream().map(Mapping::externalPort).sorted().toList();
    }

    @ParameterizedTest(name = "{0} fails")
    @ValueSource(strings = {"write", "fsync"})
    void aFailedAppendRefusesGrantsTakesRemovalsAndTheJournalConverges(String step) throws IOException {
        JournalLeaseStore store = JournalLeaseStore.open(dir, clock);
        MappingTable t = open(store);
        assertInstanceOf(Outcome.Granted.class, t.apply(map(A, 6000)));
        assertInstanceOf(Outcome.Granted.class, t.apply(map(B, 6001)));
        assertInstanceOf(Outcome.Granted.class, t.apply(map(A, 6002)));
        JournalFault fault = step.equals("write") ? new JournalFault.Write("No space left on device")
                : new JournalFault.Sync("Input/output error");

        List<Outcome> out = inOneBatch(t, () -> store.failAppends(2, fault),
                map(B, 6003),                 // a grant: refused, not durable
                delete(B, 6001),              // a removal: taken
                map(A, 6000),                 // a refresh is a grant: refused
                delete(PLUG, 9999));          // removes the row added in the plug's batch
        assertEquals(Outcome.Reason.UNAVAILABLE, assertInstanceOf(Outcome.Refused.class, out.get(0)).reason());
        assertTrue(out.get(0).toString().contains(dir.resolve("journal.bin").toString()), "names the journal: " + out.get(0));
        assertInstanceOf(Outcome.Deleted.class, out.get(1));
        assertEquals(Outcome.Reason.UNAVAILABLE, assertInstanceOf(Outcome.Refused.class, out.get(2)).reason());
        assertInstanceOf(Outcome.Deleted.class, out.get(3));
        assertEquals(List.of(6000, 6002), ports(t.view().mappings()));
        assertEquals(RecordingForwarder.expected(t.view()), forwarder.routes());
        assertTrue(t.journalBehind());

        assertEquals(0, t.expireDue().join());   // the second failing append: still behind
        assertTrue(t.journalBehind());
        assertEquals(0, t.expireDue().join());   // writes again, by itself, on the timer's next round
        assertFalse(t.journalBehind());
        assertInstanceOf(Outcome.Granted.class, t.apply(map(B, 6003)));
        assertInstanceOf(Outcome.Deleted.class, t.apply(delete(A, 6002)));
        List<Mapping> shown = t.view().mappings();
        t.close();

        RecordingForwarder restarted = new RecordingForwarder(); // a new process: a new dataplane
        MappingTable again = new MappingTable(TableConfigs.forLoad(dir), JournalLeaseStore.open(dir, clock), restarted, clock);
        again.addListener(restarted);
        try {
            again.start();
            assertEquals(shown, again.view().mappings(), "the restart restores what the table showed");
            assertEquals(RecordingForwarder.expected(again.view()), restarted.routes());
            for (Mapping m : again.view().mappings()) {
                assertInstanceOf(Outcome.Deleted.class, again.apply(new MappingRequest.Delete(m.owner(), m.key())));
            }
            assertEquals(Map.of(), restarted.routes());
        } finally {
            again.close();
        }
    }

    @Test
    void aLeaseThatExpiredWhileTheJournalFailedStaysGoneAfterARestart() throws IOException {
        JournalLeaseStore store = JournalLeaseStore.open(dir, clock);
        MappingTable t = open(store);
        assertInstanceOf(Outcome.Granted.class, t.apply(MappingRequest.Map.dynamic(A, Protocol.UDP,
                new Endpoint(A.address(), 6100), 6100, Duration.ofSeconds(300))));
        store.failAppends(1_000, new JournalFault.Write("No space left on device"));
        clock.advance(Duration.ofSeconds(301));
        assertEquals(1, t.expireDue().join());
        assertEquals(0, t.view().size());
        assertEquals(Map.of(), forwarder.routes(), "expiry took effect at once");
        t.close(); // the journal never learnt of the expiry

        MappingTable again = new MappingTable(TableConfigs.forLoad(dir), JournalLeaseStore.open(dir, clock), forwarder, clock);
        try {
            assertEquals(new MappingTable.Startup(0, 1, 0, true), again.start());
            assertEquals(0, again.view().size());
        } finally {
            again.close();
        }
    }

    @Test
    void journalFilesArePrivateAndOlderLooserFilesAreNarrowed() throws IOException {
        JournalLeaseStore store = StoreFixture.openRecovered(dir);
        StoreFixture.add(store, Rows.lease(2000));
        store.close(); // writes a snapshot too
        for (String name : List.of("journal.bin", "snapshot.bin", "lock")) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(name))), name);
        }
        Files.setPosixFilePermissions(dir.resolve("journal.bin"), PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(dir.resolve("snapshot.bin"), PosixFilePermissions.fromString("rw-r--r--"));
        StoreFixture.reopen(dir, T0);
        for (String name : List.of("journal.bin", "snapshot.bin")) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(name))), name);
        }
    }

    @Test
    void aDataDirThatIsAFileIsNamedInTheError(@TempDir Path other) throws IOException {
        Path file = Files.writeString(other.resolve("not-a-dir"), "x");
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> JournalLeaseStore.open(file, clock));
        assertEquals("data directory " + file + " is not a directory (set dataDir to a directory natgw may create or write)",
                e.getMessage());
    }
}
