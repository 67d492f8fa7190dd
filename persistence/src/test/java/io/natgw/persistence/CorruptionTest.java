package io.natgw.persistence;

import ch.qos.logback.classic.Level;
import io.natgw.core.LeaseStore;
import io.natgw.core.Mapping;
import io.natgw.testsupport.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.natgw.persistence.Rows.T0;
import static io.natgw.persistence.Rows.lease;
import static io.natgw.persistence.StoreFixture.add;
import static io.natgw.persistence.StoreFixture.journalBytes;
import static io.natgw.persistence.StoreFixture.openRecovered;
import static io.natgw.persistence.StoreFixture.reopen;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Damage inside the journal (bit rot, a bad sector, a stray write): the damaged file is kept aside, replay steps
 * over the bad record to the next intact one, and the files are rewritten without it.
 */
class CorruptionTest {

    @TempDir
    Path tmp;

    @Test
    void flippingAnyByteOfAMiddleRecordLosesOnlyThatRecordAndKeepsACopy() throws IOException {
        Path origin = tmp.resolve("origin");
        List<Mapping> before = List.of(lease(2000), lease(2001), lease(2002));
        List<Mapping> after = List.of(lease(2600), lease(2601), lease(2602));
        JournalLeaseStore store = openRecovered(origin, 0); // byte offsets: the file ends at its last record
        for (Mapping m : before) {
            add(store, m);
        }
        int middleStart = (int) Files.size(origin.resolve(JournalLeaseStore.JOURNAL));
        add(store, lease(2500));
        int middleEnd = (int) Files.size(origin.resolve(JournalLeaseStore.JOURNAL));
        for (Mapping m : after) {
            add(store, m);
        }
        store.abandon();
        byte[] whole = journalBytes(origin);
        List<Mapping> survivors = new ArrayList<>(before);
        survivors.addAll(after);

        for (int at = middleStart; at < middleEnd; at++) {
            Path dir = Files.createDirectory(tmp.resolve("flip-" + at));
            byte[] damaged = whole.clone();
            damaged[at] ^= (byte) 0xff;
            Path journal = dir.resolve(JournalLeaseStore.JOURNAL);
            Files.write(journal, damaged);

            try (LogCapture logs = new LogCapture(JournalLeaseStore.class)) {
                LeaseStore.Recovered r = reopen(dir, T0);
                assertEquals(survivors, r.mappings(), "byte " + at + " flipped: only record 4 is lost");
                List<String> warnings = logs.lines(Level.WARN);
                assertEquals(1, warnings.size(), "byte " + at + ": " + warnings);
                String w = warnings.get(0);
                assertTrue(w.startsWith(journal + ": record 4 at offset " + middleStart + " is corrupt: "), w);
                assertTrue(w.contains("went on at offset " + middleEnd), w);
            }
            try (var copies = Files.list(dir)) {
                List<Path> kept = copies.filter(p -> p.getFileName().toString().startsWith("journal.bin.corrupt-")).toList();
                assertEquals(1, kept.size(), "byte " + at + ": one copy of the damaged journal");
                assertArrayEquals(damaged, Files.readAllBytes(kept.get(0)), "the copy is the journal as it was");
            }

            JournalLeaseStore again = openRecovered(dir);
            add(again, lease(3000));
            again.abandon();
            List<Mapping> expected = new ArrayList<>(survivors);
            expected.add(lease(3000));
            try (LogCapture logs = new LogCapture(JournalLeaseStore.class)) {
                assertEquals(expected, reopen(dir, T0).mappings(), "append after flipping byte " + at);
                assertEquals(List.of(), logs.lines(Level.WARN), "recovery rewrote the files without the damage");
            }
        }
    }

    @Test
    void oneFlippedByteLosesOneRecordNotTheFiftyAfterIt() throws IOException {
        Path dir = tmp.resolve("sixty");
        JournalLeaseStore store = openRecovered(dir, 0); // byte offsets: the file ends at its last record
        List<Integer> offsets = new ArrayList<>();
        for (int port = 3000; port < 3060; port++) {
            offsets.add((int) Files.size(dir.resolve(JournalLeaseStore.JOURNAL)));
            add(store, lease(port));
        }
        store.abandon();
        byte[] damaged = journalBytes(dir);
        damaged[offsets.get(9) + RecordCodec.FRAME_BYTES + 20] ^= 0x01; // inside record 10's body
        Files.write(dir.resolve(JournalLeaseStore.JOURNAL), damaged);

        List<Integer> ports = reopen(dir, T0).mappings().stream().map(Mapping::externalPort).toList();
        assertEquals(59, ports.size(), ports::toString);
        assertTrue(!ports.contains(3009) && ports.contains(3010) && ports.contains(3059), ports::toString);
    }

    @Test
    void aDamagedSnapshotRestoresWhatPrecedesTheDamageAndIsRewritten() throws IOException {
        Path dir = tmp.resolve("snap");
        JournalLeaseStore store = openRecovered(dir);
        for (int port = 2000; port < 2010; port++) {
            add(store, lease(port));
        }
        store.close();
        byte[] snapshot = Files.readAllBytes(dir.resolve(JournalLeaseStore.SNAPSHOT));
        snapshot[snapshot.length - 3] ^= 0x10; // inside the last row
        Files.write(dir.resolve(JournalLeaseStore.SNAPSHOT), snapshot);

        try (LogCapture logs = new LogCapture(JournalLeaseStore.class)) {
            assertEquals(9, reopen(dir, T0).mappings().size());
            assertEquals(1, logs.lines(Level.WARN).size(), logs.lines(Level.WARN).toString());
            assertTrue(logs.lines(Level.WARN).get(0).contains("restored the 9 records before it and dropped 1 record"),
                    logs.lines(Level.WARN).toString());
            assertTrue(logs.lines(Level.WARN).get(0).contains("the damaged file is kept in " + dir.resolve("snapshot.bin.corrupt-")),
                    logs.lines(Level.WARN).toString());
        }
        try (LogCapture logs = new LogCapture(JournalLeaseStore.class)) {
            assertEquals(9, reopen(dir, T0).mappings().size());
            assertEquals(List.of(), logs.lines(Level.WARN), "recovery rewrote the snapshot");
        }
    }
}
