package io.natgw.persistence;

import io.natgw.conf.Protocol;
import io.natgw.core.Change;
import io.natgw.core.Endpoint;
import io.natgw.core.Kind;
import io.natgw.core.LeaseStore;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import io.natgw.core.Origin;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.natgw.persistence.Rows.ip;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 2: a child JVM that acknowledges mappings at full speed is {@code kill -9}ed at a random moment,
 * repeatedly; every mapping it had acknowledged must be present after the restart, none twice.
 */
class KillDashNineTest {

    private static final int RUNS = 6;
    private static final int PER_REQUESTER = 2500;

    @TempDir
    Path tmp;

    /** What a client was told: protocol, external port, and whose internal endpoint it carries. */
    record Ack(Protocol protocol, int externalPort, Endpoint internal) {
        MappingKey key() {
            return MappingKey.of(protocol, externalPort);
        }
    }

    @Test
    void everyAcknowledgedMappingSurvivesKillDashNineExactlyOnce() throws Exception {
        Path dir = tmp.resolve("data");
        long seed = System.nanoTime();
        Random random = new Random(seed);
        Map<MappingKey, Ack> acknowledged = new HashMap<>();
        List<Mapping> markers = new ArrayList<>();
        int killedMidFlight = 0;

        for (int run = 0; run < RUNS; run++) {
            int killAfter = 100 + random.nextInt(3000); // acknowledgements seen before the kill
            Path acks = tmp.resolve("acks-" + run + ".txt");
            Process child = startChild(dir, run, acks);
            try {
                await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(10)).until(() -> !child.isAlive()
                        || readLines(acks).stream().filter(l -> l.startsWith("ACK ")).count() >= killAfter);
            } finally {
                child.destroyForcibly(); // SIGKILL: no shutdown hook, no close()
                child.onExit().get(10, TimeUnit.SECONDS);
            }
            List<String> lines = readLines(acks);
            if (!lines.contains("DONE")) {
                killedMidFlight++;
            }
            int acksThisRun = 0;
            for (String line : lines) {
                if (line.startsWith("REFUSED")) {
                    fail("the child was refused (seed " + seed + "): " + line);
                }
                Ack ack = parse(line);
                if (ack != null) {
                    Ack earlier = acknowledged.put(ack.key(), ack);
                    assertTrue(earlier == null || earlier.equals(ack), "port acknowledged to two owners: " + earlier + ", " + ack);
                    acksThisRun++;
                }
            }
            assertTrue(acksThisRun > 0, "run " + run + " acknowledged nothing: " + lines + "; stderr: "
                    + Files.readString(tmp.resolve("child-" + run + ".err")));

            // restart: recover on a new store, as the gateway would
            try (JournalLeaseStore store = JournalLeaseStore.open(dir, Clock.systemUTC())) {
                LeaseStore.Recovered r = store.recover(Instant.now());
                Map<MappingKey, Mapping> byKey = new HashMap<>();
                Set<List<Object>> endpoints = new HashSet<>();
                for (Mapping m : r.mappings()) {
                    assertEquals(null, byKey.put(m.key(), m), "key twice: " + m);
                    assertTrue(endpoints.add(List.of(m.owner(), m.protocol(), m.internal())), "mapped twice: " + m);
                }
                for (Ack ack : acknowledged.values()) {
                    Mapping m = byKey.get(ack.key());
                    assertTrue(m != null, "run " + run + " (seed " + seed + "): acknowledged " + ack + " was lost");
                    assertEquals(ack.internal(), m.internal(), "acknowledged " + ack);
                }
                for (Mapping marker : markers) {
                    assertEquals(marker, byKey.get(marker.key()), "appended after an earlier recovery");
                }
                // Rows the kill caught between durable and acknowledged are legitimate (the client never heard
                // back and will retry): at most one in-flight request per requester per run.
                long unacknowledged = r.mappings().size() - acknowledged.size() - markers.size();
                if (unacknowledged < 0 || unacknowledged > (long) AcknowledgingChild.REQUESTERS * (run + 1)) {
                    fail(unacknowledged + " rows nobody asked for in run " + run + ", e.g. " + r.mappings().stream()
                            .filter(m -> !acknowledged.containsKey(m.key()) && !markers.contains(m)).limit(20).toList()
                            + "; acknowledged this run " + acksThisRun + ", lines " + lines.size());
                }
                for (Mapping m : r.mappings()) {
                    assertTrue(acknowledged.containsKey(m.key()) || markers.contains(m) || askedFor(m, run),
                            "a row no child asked for: " + m);
                }

                // still appendable after the crash; every other run also closes (compacts) instead of abandoning
                Mapping marker = marker(run);
                store.commit(List.of(Change.added(marker, Change.Cause.REQUEST)));
                markers.add(marker);
                if (run % 2 == 0) {
                    store.abandon();
                }
            }
        }
        assertTrue(killedMidFlight >= 1, "no run was killed while mapping (seed " + seed + "): the test tested no crash");
    }

    /**
     * Whether a child of a run so far could have asked for the row: a PCP mapping of one of its requesters, to
     * itself, for an internal port in the range of that run (the kill may catch it durable but not yet acknowledged).
     */
    private static boolean askedFor(Mapping m, int lastRun) {
        byte[] a = m.owner().address().getAddress();
        int requester = (a[3] & 0xff) - 10;
        if (m.owner().origin() != Origin.PCP || !m.internal().address().equals(m.owner().address())
                || a[0] != 127 || a[1] != 0 || a[2] != 0 || requester < 0 || requester >= AcknowledgingChild.REQUESTERS
                || m.protocol() != (requester % 2 == 0 ? Protocol.TCP : Protocol.UDP)) {
            return false;
        }
        int port = m.internal().port();
        return port >= 1024 && port < 1024 + (lastRun + 1) * PER_REQUESTER;
    }

    private Process startChild(Path dir, int run, Path acks) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dnatgw.test.level=WARN", "-Dnatgw.test.log=" + tmp.resolve("child-" + run + ".log"),
                "-cp", System.getProperty("java.class.path"), AcknowledgingChild.class.getName(),
                dir.toString(), Integer.toString(1024 + run * PER_REQUESTER), Integer.toString(PER_REQUESTER), "30",
                acks.toString());
        pb.redirectOutput(tmp.resolve("child-" + run + ".out").toFile());
        pb.redirectError(tmp.resolve("child-" + run + ".err").toFile());
        return pb.start();
    }

    /** The child's lines so far (a last line still being written is cut short and ignored by {@link #parse}). */
    private static List<String> readLines(Path acks) throws IOException {
        return Files.exists(acks) ? Files.readAllLines(acks, StandardCharsets.US_ASCII) : List.of();
    }

    /** An ACK line, or null for other lines and for a last line the kill cut short (no final dot). */
    private static Ack parse(String line) {
        String[] w = line.split(" ");
        if (w.length != 6 || !w[0].equals("ACK") || !w[5].equals(".")) {
            return null;
        }
        return new Ack(Protocol.parse(w[1]), Integer.parseInt(w[2]), new Endpoint(ip(w[3]), Integer.parseInt(w[4])));
    }

    /** A static row written directly to the store after a recovery, at a port the children never ask for. */
    private static Mapping marker(int run) {
        return new Mapping(Protocol.TCP, 65000 + run, RemoteFilter.ANY, new Endpoint(ip("127.0.0.200"), 65000 + run),
                Owner.of(ip("127.0.0.1"), Origin.ADMIN), "", Kind.STATIC, "marker " + run, Instant.now(), null, true);
    }
}
