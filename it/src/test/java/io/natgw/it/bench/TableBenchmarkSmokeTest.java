package io.natgw.it.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TableBenchmark runs every requester count it reports (1, 16, 256) on the shipped configuration: each requester's
 * client address is a LAN client, so every add is granted (it refused at 16 with "127.0.1.10 is not a LAN client"),
 * and its restore reads back what it wrote. A few operations each: it checks that the program runs, not its figures.
 */
class TableBenchmarkSmokeTest {

    @Test
    void everyRequesterCountIsGrantedEveryAdd(@TempDir Path dir) throws Exception {
        for (int requesters : new int[] {1, 16, 256}) {
            TableBenchmark.Result r = TableBenchmark.run(dir.resolve("run-" + requesters), requesters, 2 * requesters);
            assertEquals(2 * requesters, r.sortedNanos().length, requesters + " requesters: every add acknowledged");
            assertTrue(r.commits() > 0, requesters + " requesters: journal commits");
        }
    }

    @Test
    void theRestoreReadsBackTheLeasesItWrote(@TempDir Path dir) throws Exception {
        Path clean = dir.resolve("clean");
        Path journal = dir.resolve("journal-as-killed.bin");
        TableBenchmark.writeLeases(clean, journal, 1_500); // ports 1024-2524: across SSDP's 1900
        Path crashed = Files.createDirectories(dir.resolve("crashed"));
        Files.copy(journal, crashed.resolve("journal.bin"));
        TableBenchmark.restore(crashed, 1_500); // throws unless every lease is restored
        TableBenchmark.restore(clean, 1_500);
    }
}
