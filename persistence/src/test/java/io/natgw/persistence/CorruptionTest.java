package io.natgw.persistence;

import ch.qos.logback.classic.Level;
import io.natgw.core.LeaseStore;
import io.natgw.core.Mapping;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
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
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Damage inside the journal (bit rot, a bad sector, a stray write): replay stops at the first bad record. */
class CorruptionTest {

    @TempDir
    Path tmp;

    @Test
    void flippingAnyByteOfAMiddleRecordStopsReplayThereWithOneWarning() throws IOException {
        Path origin = tmp.resolve("origin");
        List<Mapping> before = List.of(lease(2000), lease(2001), lease(2002));
        JournalLeaseStore store = openRecovered(origin);
        for (Mapping m : before) {
            add(store, m);
        }
        int middleStart = (int) Files.size(origin.resolve(JournalLeaseStore.JOURNAL));
        add(store, lease(2500));
        int middleEnd = (int) Files.size(origin.resolve(JournalLeaseStore.JOURNAL));
        add(store, lease(2600));
        add(store, lease(2601));
        add(store, lease(2602));
        store.abandon();
        byte[] whole = journalBytes(origin);

        for (int at = middleStart; at < middleEnd; at++) {
            Path dir = Files.createDirectory(tmp.resolve("flip-" + at));
            byte[] damaged = whole.clone();
            damaged[at] ^= (byte) 0xff;
            Files.write(dir.resolve(JournalLeaseStore.JOURNAL), damaged);
            Path journal = dir.resolve(JournalLeaseStore.JOURNAL);

            try (LogCapture logs = new LogCapture(JournalLeaseStore.class)) {
                LeaseStore.Recovered r = reopen(dir, T0);
                assertEquals(before, r.mappings(), "byte " + at + " flipped");
                long claimed = Integer.toUnsignedLong(ByteBuffer.wrap(damaged, middleStart, 4).getInt());
                boolean looksTorn = claimed >= 1 && claimed <= RecordCodec.MAX_BODY
                        && middleStart + RecordCodec.FRAME_BYTES + claimed > damaged.length;
                List<String> warnings = logs.lines(Level.WARN);
                if (looksTorn) {
                    // a damaged length pointing past the end of the file is indistinguishable from a torn append
                    assertEquals(List.of(), warnings, "byte " + at);
                } else {
                    assertEquals(1, warnings.size(), "byte " + at + ": " + warnings);
                    String w = warnings.get(0);
                    assertTrue(w.startsWith("journal " + journal + ": record 4 at offset " + middleStart + " is corrupt: "), w);
                    assertTrue(w.endsWith("the journal is truncated to " + middleStart + " bytes"), w);
                    if (at >= middleStart + 4) { // the length still delimits the records that follow
                        assertTrue(w.contains("dropping 4 records (" + (damaged.length - middleStart) + " bytes)"), w);
                    }
                    if (at >= middleStart + 4 && at < middleStart + 8) {
                        assertTrue(w.contains("CRC32C mismatch"), w);
                    }
                }
            }
            assertEquals(middleStart, Files.size(journal), "byte " + at + ": truncated at the corrupt record");

            JournalLeaseStore after = openRecovered(dir);
            add(after, lease(3000));
            after.abandon();
            List<Mapping> expected = new ArrayList<>(before);
            expected.add(lease(3000));
            assertEquals(expected, reopen(dir, T0).mappings(), "append after flipping byte " + at);
        }
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
        }
        try (LogCapture logs = new LogCapture(JournalLeaseStore.class)) {
            assertEquals(9, reopen(dir, T0).mappings().size());
            assertEquals(List.of(), logs.lines(Level.WARN), "recovery rewrote the snapshot");
        }
    }
}
