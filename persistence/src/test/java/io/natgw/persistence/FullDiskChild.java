package io.natgw.persistence;

import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import io.natgw.core.MappingRequest;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import io.natgw.core.RecordingForwarder;
import io.natgw.core.TestClock;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.awaitility.Awaitility.await;

/**
 * The process {@link FullDiskTest} runs on a tiny tmpfs of its own (a mount namespace): a table on the journal in
 * {@code args[0]} meets a full disk, then space returns. Prints one line per fact checked; exits 1 with
 * {@code FAIL ...} on the first that does not hold, 0 after {@code OK}.
 */
public final class FullDiskChild {

    private static final Owner A = Owner.of(ip("127.0.0.5"), Origin.PCP);
    private static final Owner ADMIN = Owner.of(ip("127.0.0.1"), Origin.ADMIN);

    public static void main(String[] args) throws Exception {
        try {
            run(Path.of(args[0]), Integer.parseInt(args[1]));
            System.out.println("OK");
            System.exit(0);
        } catch (AssertionError | Exception e) {
            System.out.println("FAIL " + e);
            e.printStackTrace(System.out);
            System.exit(1);
        }
    }

    /** {@code preallocate}: the journal's {@link JournalLeaseStore.Tuning#preallocateBytes}. */
    private static void run(Path dir, int preallocate) throws Exception {
        TestClock clock = new TestClock(Rows.T0);
        RecordingForwarder forwarder = new RecordingForwarder();
        JournalLeaseStore.Tuning tuning = new JournalLeaseStore.Tuning(JournalLeaseStore.Tuning.DEFAULT.minRecords(),
                JournalLeaseStore.Tuning.DEFAULT.liveFactor(), preallocate);
        MappingTable table = new MappingTable(TableConfigs.forLoad(dir), JournalLeaseStore.open(dir, clock, tuning), forwarder, clock);
        table.addListener(forwarder);
        table.start();
        check(table.apply(map(7000, Duration.ofHours(1))) instanceof Outcome.Granted, "granted 7000");
        check(table.apply(map(7001, Duration.ofHours(1))) instanceof Outcome.Granted, "granted 7001");
        check(table.apply(map(7002, Duration.ofSeconds(5))) instanceof Outcome.Granted, "granted 7002 for a short lease");

        Path filler = dir.resolve("filler");
        long filled = fill(filler);
        say("filled the disk with " + filled + " bytes");
        Outcome refused = null;
        int port = 7100;
        // the journal's last page, or its preallocated space, holds more records: they are written into space it has
        for (; port < 7400 && refused == null; port++) {
            Outcome o = table.apply(map(port, Duration.ofHours(1)));
            if (o instanceof Outcome.Refused r) {
                refused = r;
            }
        }
        check(refused instanceof Outcome.Refused r && r.reason() == Outcome.Reason.UNAVAILABLE
                && r.detail().contains(dir.resolve("journal.bin").toString()) && r.detail().contains("No space left on device"),
                "a grant is refused, naming the journal and the cause: " + refused);
        check(table.apply(map(7999, Duration.ofHours(1))) instanceof Outcome.Refused, "grants stay refused while the disk is full");

        Outcome deleted = table.apply(new MappingRequest.Delete(A, MappingKey.of(Protocol.TCP, 7001)));
        check(deleted instanceof Outcome.Deleted d && d.removed().size() == 1, "a delete takes effect: " + deleted);
        check(table.find(MappingKey.of(Protocol.TCP, 7001)).isEmpty(), "7001 is gone from the table");
        clock.advance(Duration.ofSeconds(121)); // past the lease (PCP clamps 5 s up to pcp.minLifetime 120 s)
        table.expireDue().join(); // (or the table's own 1 s timer got there first)
        check(table.find(MappingKey.of(Protocol.TCP, 7002)).isEmpty(), "the short lease expires although the journal cannot write");
        check(RecordingForwarder.expected(table.view()).equals(forwarder.routes()), "the dataplane forwards what the table lists");
        check(!forwarder.routes().containsKey(MappingKey.of(Protocol.TCP, 7001))
                && !forwarder.routes().containsKey(MappingKey.of(Protocol.TCP, 7002)), "neither 7001 nor 7002 forwards");
        check(table.journalBehind(), "the removals wait for the journal");

        Files.delete(filler);
        say("space is back");
        await().atMost(Duration.ofSeconds(30)).until(() -> !table.journalBehind()); // the table's 1 s timer retries
        check(table.apply(map(7998, Duration.ofHours(1))) instanceof Outcome.Granted, "writes resume by themselves");
        List<Mapping> shown = table.view().mappings();
        table.close();

        MappingTable again = new MappingTable(TableConfigs.forLoad(dir), JournalLeaseStore.open(dir, clock),
                new RecordingForwarder(), clock);
        again.start();
        check(again.view().mappings().equals(shown), "a restart restores what the table showed: " + again.view().mappings());
        check(again.find(MappingKey.of(Protocol.TCP, 7001)).isEmpty() && again.find(MappingKey.of(Protocol.TCP, 7002)).isEmpty(),
                "the deleted and the expired mapping stay gone");
        again.close();
    }

    private static MappingRequest.Map map(int port, Duration lifetime) {
        return MappingRequest.Map.dynamic(A, Protocol.TCP, new Endpoint(A.address(), port), port, lifetime);
    }

    /** Writes until the file system is full (bounded: the tmpfs is tiny); returns the bytes written. */
    private static long fill(Path filler) throws IOException {
        long written = 0;
        byte[] chunk = new byte[4096];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (written < 64L << 20) {
                out.write(chunk);
                out.flush();
                written += chunk.length;
            }
            throw new IOException("the disk did not fill up after " + written + " bytes: not the tiny tmpfs");
        } catch (IOException e) {
            if (e.getMessage() == null || !e.getMessage().contains("No space left on device")) {
                throw e;
            }
        }
        return written;
    }

    private static void check(boolean fact, String what) {
        if (!fact) {
            throw new AssertionError(what);
        }
        say("ok: " + what);
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    private static InetAddress ip(String literal) {
        return Rows.ip(literal);
    }

    private FullDiskChild() {
    }
}
