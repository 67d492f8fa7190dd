package io.natgw.persistence;

import ch.qos.logback.classic.Level;
import io.natgw.core.Mapping;
import io.natgw.testsupport.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.natgw.persistence.Rows.T0;
import static io.natgw.persistence.Rows.lease;
import static io.natgw.persistence.StoreFixture.add;
import static io.natgw.persistence.StoreFixture.journalBytes;
import static io.natgw.persistence.StoreFixture.openRecovered;
import static io.natgw.persistence.StoreFixture.reopen;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An append cut short by a crash or power loss: the file ends anywhere inside its last record. */
class TornTailTest {

    @TempDir
    Path tmp;

    @Test
    void aJournalCutAtEveryByteOfItsLastRecordRestoresEveryEarlierRecordAndAppendsCleanly() throws IOException {
        Path origin = tmp.resolve("origin");
        List<Mapping> earlier = new ArrayList<>();
        JournalLeaseStore store = openRecovered(origin, 0); // byte offsets: the file ends at its last record
        for (int port = 2000; port < 2005; port++) {
            earlier.add(lease(port));
            add(store, lease(port));
        }
        long lastStart = Files.size(origin.resolve(JournalLeaseStore.JOURNAL));
        add(store, lease(2999));
        store.abandon();
        byte[] whole = journalBytes(origin);
        assertTrue(whole.length - lastStart > 80, "the last record spans " + (whole.length - lastStart) + " bytes");

        for (int cut = (int) lastStart; cut < whole.length; cut++) {
            Path dir = Files.createDirectory(tmp.resolve("cut-" + cut));
            Files.write(dir.resolve(JournalLeaseStore.JOURNAL), Arrays.copyOf(whole, cut));

            try (LogCapture logs = new LogCapture(JournalLeaseStore.class)) {
                assertEquals(earlier, reopen(dir, T0).mappings(), "cut at " + cut);
                List<String> info = logs.lines(Level.INFO).stream().filter(l -> l.contains("incomplete last record")).toList();
                assertEquals(cut == lastStart ? 0 : 1, info.size(), "cut at " + cut + ": " + info);
                assertEquals(List.of(), logs.lines(Level.WARN), "a torn tail is expected after a crash, not damage");
            }
            assertEquals(lastStart, Files.size(dir.resolve(JournalLeaseStore.JOURNAL)), "truncated where the torn record began");

            JournalLeaseStore after = openRecovered(dir);
            add(after, lease(3000));
            after.abandon();
            List<Mapping> expected = new ArrayList<>(earlier);
            expected.add(lease(3000));
            assertEquals(expected, reopen(dir, T0).mappings(), "append after a cut at " + cut);
        }
    }

    /**
     * Some file systems extend the file before its data lands, and the store preallocates: either way zeros after the
     * last record are the journal's end, kept for the next appends to overwrite.
     */
    @Test
    void aZeroFilledTailIsTheEndAndTheNextAppendsOverwriteIt() throws IOException {
        Path dir = tmp.resolve("zeros");
        JournalLeaseStore store = openRecovered(dir, 0); // no preallocation of its own: only the zeros written below
        add(store, lease(2000), lease(2001));
        store.abandon();
        long end = Files.size(dir.resolve(JournalLeaseStore.JOURNAL));
        Files.write(dir.resolve(JournalLeaseStore.JOURNAL), new byte[4096], java.nio.file.StandardOpenOption.APPEND);

        try (LogCapture logs = new LogCapture(JournalLeaseStore.class)) {
            assertEquals(List.of(lease(2000), lease(2001)), reopen(dir, T0).mappings());
            assertEquals(List.of(), logs.lines(Level.WARN));
        }
        assertEquals(end + 4096, Files.size(dir.resolve(JournalLeaseStore.JOURNAL)), "the zeros are kept");

        JournalLeaseStore after = openRecovered(dir, 0);
        add(after, lease(2002));
        after.abandon();
        assertEquals(end + 4096, Files.size(dir.resolve(JournalLeaseStore.JOURNAL)), "the append went into the zeros");
        assertEquals(List.of(lease(2000), lease(2001), lease(2002)), reopen(dir, T0).mappings());
    }
}
