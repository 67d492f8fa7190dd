package io.natgw.it.bench;

import io.natgw.conf.ConfigLoader;
import io.natgw.conf.NatgwConfig;
import io.natgw.conf.Protocol;
import io.natgw.core.Change;
import io.natgw.core.Endpoint;
import io.natgw.core.Forwarder;
import io.natgw.core.Kind;
import io.natgw.core.LeaseStore;
import io.natgw.core.Mapping;
import io.natgw.core.MappingRequest;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;
import io.natgw.persistence.JournalLeaseStore;
import io.natgw.persistence.JournalStats;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Durable mapping adds per second and their latency through {@link MappingTable} + {@link JournalLeaseStore}
 * with 1, 16 and 256 concurrent requesters, and the time to restore 100 000 leases. A program that prints
 * figures, not a test: run it on the real disk ({@code -Dnatgw.bench.dir=DIR}, default the temp directory).
 *
 * <p>Each requester behaves like a front-end: it submits one request, and submits the next only when the
 * table has acknowledged the first (the future completes after the change is durable).
 */
public final class TableBenchmark {

    private static final int OPS = 20_000;
    private static final int[] REQUESTERS = {1, 16, 256};
    private static final int RESTORE_LEASES = 100_000;
    private static final Duration RUN_LIMIT = Duration.ofMinutes(2);
    private static final int CLIENTS = 240;

    /** One run's figures. */
    record Result(int requesters, int ops, Duration elapsed, long[] sortedNanos, long commits, JournalStats journal) implements BenchSupport.Timed {
    }

    public static void main(String[] args) throws Exception {
        Path root = BenchSupport.workDir("natgw-bench-", "INFO");
        try {
            System.out.printf("natgw table benchmark: durable mapping adds through MappingTable + JournalLeaseStore%n");
            BenchSupport.printEnvironment(root);
            run(root.resolve("warm-up"), 16, 4_000); // JIT warm-up, not reported

            System.out.printf("%10s %7s %8s %9s %8s %8s %8s %8s %11s %10s%n", "requesters", "ops", "seconds", "ops/s",
                    "p50 ms", "p99 ms", "max ms", "commits", "ops/commit", "fsync ms");
            for (int requesters : REQUESTERS) {
                Result r = run(root.resolve("run-" + requesters), requesters, OPS);
                System.out.printf("%10d %7d %8.2f %9.0f %8.3f %8.3f %8.3f %8d %11.1f %10.3f%n", r.requesters(), r.ops(),
                        r.elapsed().toNanos() / 1e9, r.opsPerSecond(), r.millisAt(0.50), r.millisAt(0.99),
                        BenchSupport.maxMillis(r.sortedNanos()), r.commits(), (double) r.ops() / r.commits(),
                        r.journal().fsyncMean().toNanos() / 1e6);
            }

            System.out.printf("%nrestore of %d leases (open store + MappingTable.start()):%n", RESTORE_LEASES);
            Path clean = root.resolve("restore-snapshot");
            Path journalOnly = root.resolve("journal-as-killed.bin");
            writeLeases(clean, journalOnly, RESTORE_LEASES);
            for (int round = 1; round <= 2; round++) {
                Path crashed = Files.createDirectories(root.resolve("restore-journal-" + round));
                Files.copy(journalOnly, crashed.resolve("journal.bin")); // closing the table compacts: a fresh copy each round
                print("after a crash (journal only), round " + round, restore(crashed, RESTORE_LEASES));
                print("after a clean stop (snapshot), round " + round, restore(clean, RESTORE_LEASES));
            }
            System.out.printf("%ntargets: >= 5000 adds/s with 16 requesters; 100000 leases restored in < 2 s%n");
        } finally {
            BenchSupport.deleteTree(root);
        }
    }

    /**
     * The table logs one INFO line per mapping, as in production; a console would measure the terminal, so
     * (unless a Logback configuration is given) the log goes to a file, as a daemon's does.
     */
    private static void print(String what, Restore r) {
        System.out.printf("  %-40s %6.2f s (store recover %.2f s, table %.2f s)%n", what, r.total().toNanos() / 1e9,
                r.recover().toNanos() / 1e9, r.total().minus(r.recover()).toNanos() / 1e9);
    }

    /** {@code requesters} concurrent clients add {@code ops} mappings in all, each waiting for its acknowledgement. */
    static Result run(Path dir, int requesters, int ops) throws Exception {
        Clock clock = Clock.systemUTC();
        JournalLeaseStore store = JournalLeaseStore.open(dir, clock);
        MappingTable table = new MappingTable(config(dir), store, Forwarder.NONE, clock);
        table.start();
        long commitsBefore = table.stats().batches();
        long[] nanos = new long[ops];
        AtomicInteger slot = new AtomicInteger();
        AtomicReference<String> failure = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(requesters);
        int nextPort = 1024;
        List<Requester> all = new ArrayList<>();
        for (int r = 0; r < requesters; r++) {
            int count = ops / requesters + (r < ops % requesters ? 1 : 0);
            all.add(new Requester(table, client(r), r % 2 == 0 ? Protocol.TCP : Protocol.UDP, nextPort, count, nanos, slot,
                    failure, done));
            nextPort += count;
        }
        long t0 = System.nanoTime();
        all.forEach(q -> q.step(0));
        if (!done.await(RUN_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
            failure.compareAndSet(null, "did not finish within " + RUN_LIMIT);
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);
        long commits = table.stats().batches() - commitsBefore;
        JournalStats journal = store.stats();
        table.close();
        if (failure.get() != null) {
            throw new IllegalStateException(requesters + " requesters: " + failure.get());
        }
        long[] sorted = Arrays.copyOf(nanos, slot.get());
        Arrays.sort(sorted);
        return new Result(requesters, ops, elapsed, sorted, commits, journal);
    }

    /** One client: a chain of requests, each submitted when the previous one was acknowledged. */
    private record Requester(MappingTable table, InetAddress client, Protocol protocol, int firstPort, int count,
                             long[] nanos, AtomicInteger slot, AtomicReference<String> failure, CountDownLatch done) {
        void step(int i) {
            if (i == count || failure.get() != null) {
                done.countDown();
                return;
            }
            int port = firstPort + i;
            Owner owner = Owner.of(client, Origin.PCP);
            long start = System.nanoTime();
            table.submit(MappingRequest.Map.dynamic(owner, protocol, new Endpoint(client, port), port, Duration.ofHours(1)))
                    .whenComplete((outcome, error) -> {
                        nanos[slot.getAndIncrement()] = System.nanoTime() - start;
                        if (!(outcome instanceof Outcome.Granted)) {
                            failure.compareAndSet(null, "request " + i + " of " + client.getHostAddress() + ": "
                                    + (error != null ? error : outcome));
                        }
                        step(i + 1);
                    });
        }
    }

    /** Writes {@code n} leases through the store in batches; {@code journalCopy} gets the journal as a kill would leave it. */
    static void writeLeases(Path clean, Path journalCopy, int n) throws IOException {
        Clock clock = Clock.systemUTC();
        Instant now = clock.instant();
        try (JournalLeaseStore store = JournalLeaseStore.open(clean, clock)) {
            store.recover(now);
            store.recordState(now, InetAddress.getByName("127.0.1.1"));
            // every external port from 1024 but the gateway's own (a restore refuses those), TCP first, then UDP
            int[] ports = java.util.stream.IntStream.rangeClosed(1024, 65535)
                    .filter(p -> !config(clean).servicePorts().contains(p)).toArray();
            if (n > 2 * ports.length) {
                throw new IllegalArgumentException(n + " leases do not fit " + ports.length + " ports of two protocols");
            }
            List<Change> batch = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Protocol protocol = i < ports.length ? Protocol.TCP : Protocol.UDP;
                int port = ports[i % ports.length];
                InetAddress client = client(i % 200);
                batch.add(Change.added(new Mapping(protocol, port, RemoteFilter.ANY, new Endpoint(client, port),
                        Owner.of(client, Origin.PCP), "", Kind.DYNAMIC, "bench lease " + i, now,
                        now.plus(Duration.ofDays(1)), true), Change.Cause.REQUEST));
                if (batch.size() == 1000) {
                    store.commit(batch);
                    batch.clear();
                }
            }
            store.commit(batch);
            Files.copy(clean.resolve("journal.bin"), journalCopy); // every batch is synced: what a kill -9 leaves
        } // close: snapshot
    }

    /** How long a restore took in all, and the part the store's {@code recover} took. */
    record Restore(Duration total, Duration recover) {
    }

    static Restore restore(Path dir, int expected) throws IOException {
        Clock clock = Clock.systemUTC();
        long t0 = System.nanoTime();
        TimedRecovery store = new TimedRecovery(JournalLeaseStore.open(dir, clock));
        MappingTable table = new MappingTable(config(dir), store, Forwarder.NONE, clock);
        MappingTable.Startup startup = table.start();
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        int kept = table.view().size(); // restored leases the rules in force refuse are removed at start
        table.close();
        if (startup.restored() != expected || kept != expected) {
            throw new IllegalStateException("restored " + startup.restored() + " of " + expected + " leases from " + dir
                    + ", " + kept + " kept");
        }
        return new Restore(took, store.recoverTook);
    }

    /** Passes everything to the journal, timing {@code recover}. */
    private static final class TimedRecovery implements LeaseStore {
        private final JournalLeaseStore store;
        private Duration recoverTook = Duration.ZERO;

        TimedRecovery(JournalLeaseStore store) {
            this.store = store;
        }

        @Override
        public Recovered recover(Instant now) throws IOException {
            long t0 = System.nanoTime();
            Recovered r = store.recover(now);
            recoverTook = Duration.ofNanos(System.nanoTime() - t0);
            return r;
        }

        @Override
        public void commit(List<Change> changes) throws IOException {
            store.commit(changes);
        }

        @Override
        public void recordState(Instant epochStart, InetAddress externalAddress) throws IOException {
            store.recordState(epochStart, externalAddress);
        }

        @Override
        public void close() throws IOException {
            store.close();
        }
    }

    /**
     * The shipped defaults, with quotas out of the way and no static mappings or triggers; the dataplane off, as the
     * table runs here without one ({@link Forwarder#NONE}): no descriptor per mapping, so the open-files limit does not
     * lower maxMappings below the 100 000 leases restored.
     */
    static NatgwConfig config(Path dataDir) {
        NatgwConfig d = ConfigLoader.defaults();
        for (int n : new int[] {0, CLIENTS - 1}) {
            if (!d.network().isLanClient(client(n))) {
                throw new IllegalStateException(client(n).getHostAddress() + " is outside the shipped network.lan.clients "
                        + d.network().lanClients() + ": the benchmark's requesters would be refused");
            }
        }
        return new NatgwConfig(d.source(), d.network(), dataDir, d.pcp(), d.upnp(), d.admin(),
                new NatgwConfig.Limits(true, 1_000_000, 1_000_000), d.permissions(), List.of(), List.of(), withoutDataplane(d.dataplane()));
    }

    private static NatgwConfig.Dataplane withoutDataplane(NatgwConfig.Dataplane p) {
        return new NatgwConfig.Dataplane(false, p.mode(), p.relay(), p.connectTimeout(), p.udpIdleTimeout(),
                p.udpSessionsPerMapping(), p.cutOnDelete(), p.budgets(), p.forwarding(), p.ipv6Firewall());
    }

    /**
     * Requester or lease {@code n}'s client: 127.0.0.10-249, inside the shipped network.lan.clients (127.0.0.0/24;
     * 127.0.1.0/24 is the WAN side and is refused). 256 requesters share 240 addresses (each has its own ports);
     * the per-client quota is out of the way ({@link #config}).
     */
    static InetAddress client(int n) {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (10 + n % CLIENTS)});
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private TableBenchmark() {
    }
}
