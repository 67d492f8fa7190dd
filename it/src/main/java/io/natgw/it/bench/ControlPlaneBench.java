package io.natgw.it.bench;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The client side of {@code bench/control-plane.sh}: NAT-PMP, PCP and UPnP IGD requests from the lan namespace to a
 * gateway (natgw or miniupnpd) as real clients send them: one UDP request awaited at a time per client; UPnP over a
 * new TCP connection per SOAP call with {@code Connection: close}, as upnpc does, after SSDP discovery. UDP requests
 * are retransmitted on RFC 6886's schedule (250 ms, doubling), counted and reported. Every request must succeed (any
 * refusal or no reply within {@value #REPLY_TIMEOUT_MS} ms fails the pass, reported with its reason). JDK only, so the script compiles it with {@code javac}. Commands (results are appended to FILE as
 * tab-separated lines {@code column row req/s p50 p99 ops}, which {@code report} turns into the table):
 * <pre>
 *   cold   FILE COLUMN GW PROTO START_EPOCH_MS OPS   time from process start to the first answer, then the first OPS adds
 *   warm   FILE COLUMN GW WARMUP OPS CLIENTS PER_CLIENT   for each protocol: a warm-up pass of adds and deletes, then
 *                                                          OPS sequential adds and deletes, then CLIENTS at once
 *   churn  FILE COLUMN GW PID TOTAL CLIENTS MAX_SECONDS   NAT-PMP add+delete TOTAL times, sampling PID's RSS
 *   fill   FILE GW PER_CLIENT                           16 clients add PER_CLIENT NAT-PMP mappings each (kept)
 *   pinholes FILE GW4 GW6 WARMUP OPS ROUNDS            IPv6 pinholes against IPv4 mappings (see {@link #pinholes})
 *   ready  FILE GW                                      waits (at most 60 s) until GW answers a NAT-PMP add
 *   rss    FILE COLUMN ROW PID                          one RSS sample
 *   note   FILE TEXT                                    a line printed under the table
 *   report FILE BASE_COLUMN                              the table, with every other column's ratio to BASE_COLUMN
 *   serve                                                one client JVM for many commands: each line of standard input
 *                                                        is a command above; after each it prints "ok" or "failed: WHY"
 * </pre>
 * Client addresses: the sequential client is 192.168.77.10 (and fd00:77::10 for IPv6 pinholes); concurrent client c is 192.168.77.(100 + c) (the script
 * adds them to the lan interface), so each is its own owner in secure mode.
 */
public final class ControlPlaneBench {

    /**
     * How long a request may go unanswered before the pass fails: generous, as real clients are (libnatpmp retries for
     * over a minute); a gateway that falls behind shows in the latency and the retransmission count instead.
     */
    static final int REPLY_TIMEOUT_MS = 30_000;
    static final int LIFETIME = 3600;
    static final String SEQUENTIAL_CLIENT = "192.168.77.10";
    /**
     * Requests per client in the concurrent part of the warm-up (adds, then deletes; at most PER_CLIENT): the measured
     * concurrent passes are short (16 x 100 is about 0.15 s against natgw), and without it the first of them ran
     * the gateway's batch path and the clients' threads cold. {@code -Dwarmup.concurrent=N} changes it.
     */
    static final int CONCURRENT_WARMUP = Integer.getInteger("warmup.concurrent", 50);
    /** NAT-PMP/PCP requests sent again because no answer came in time (RFC 6886 §3.1 schedule); printed per phase. */
    static final AtomicLong RETRANSMITS = new AtomicLong();

    private ControlPlaneBench() {
    }

    enum Proto { NATPMP, PCP, UPNP }

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("serve")) {
            serve();
            return;
        }
        run(args);
    }

    /**
     * Commands from standard input, one per line with its arguments separated by tabs (a column's name has spaces),
     * in this one JVM, each answered on standard output by "ok" or "failed: WHY". The script's cold starts use it: a
     * client that is itself cold (a new JVM, its request path in the interpreter while its compiler threads take the
     * cores the gateway's start-up shares) measured itself along with the gateway's first requests; this one is warmed
     * up against a gateway started for it before the first cold start.
     */
    static void serve() throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isBlank()) {
                continue;
            }
            String answer;
            try {
                run(line.split("\t"));
                answer = "ok";
            } catch (Exception | AssertionError e) {
                answer = "failed: " + e;
            }
            System.out.println(answer);
            System.out.flush();
        }
    }

    static void run(String[] args) throws Exception {
        Path file = Path.of(args[1]);
        switch (args[0]) {
            case "cold" -> cold(file, args[2], InetAddress.getByName(args[3]), Proto.valueOf(args[4].toUpperCase(Locale.ROOT)),
                    Long.parseLong(args[5]), Integer.parseInt(args[6]));
            case "warm" -> warm(file, args[2], InetAddress.getByName(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]),
                    Integer.parseInt(args[6]), Integer.parseInt(args[7]));
            case "churn" -> churn(file, args[2], InetAddress.getByName(args[3]), Long.parseLong(args[4]), Integer.parseInt(args[5]),
                    Integer.parseInt(args[6]), Integer.parseInt(args[7]));
            case "fill" -> System.err.printf("  %d mappings added: %.0f/s%n", Integer.parseInt(args[3]) * 16,
                    concurrent(Proto.NATPMP, InetAddress.getByName(args[2]), 16, true, 2000, Integer.parseInt(args[3])).perSecond());
            case "pinholes" -> {
                try {
                    pinholes(file, InetAddress.getByName(args[2]), InetAddress.getByName(args[3]), Integer.parseInt(args[4]),
                            Integer.parseInt(args[5]), Integer.parseInt(args[6]));
                } catch (IllegalStateException | IOException e) { // a refusal or no answer: the run ends with the reason
                    System.err.println("pinholes: FAILED: " + e.getMessage());
                    System.exit(1);
                }
            }
            case "ready" -> ready(InetAddress.getByName(args[2]));
            case "rss" -> record(file, args[2], args[3], rssMiB(Long.parseLong(args[4])), Double.NaN, Double.NaN, 0);
            case "report" -> report(file, args[2]);
            case "note" -> note(file, args[2]);
            default -> throw new IllegalArgumentException("unknown command " + args[0]);
        }
    }

    // ---------------------------------------------------------------- phases

    /** Polls with adds until the gateway answers one; records the time since START_EPOCH_MS, then the next OPS adds. */
    static void cold(Path file, String column, InetAddress gw, Proto proto, long startEpochMs, int ops) throws Exception {
        Client c = client(proto, gw, InetAddress.getByName(SEQUENTIAL_CLIENT));
        long deadline = System.currentTimeMillis() + 60_000;
        int port = 11_000;
        while (true) {
            if (c.tryOnce(port, 100)) {
                break;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException(column + ": no " + proto + " answer within 60 s of start"
                        + (c instanceof UpnpClient u ? " (last: " + u.lastFailure + ")" : ""));
            }
        }
        long firstMs = System.currentTimeMillis() - startEpochMs;
        record(file, column, proto + " first answer after start (ms)", firstMs, Double.NaN, Double.NaN, 1);
        RETRANSMITS.set(0);
        Timed t = sequential(c, true, port + 1, ops);
        record(file, column, proto + " add, first " + ops + " (cold)", t);
        recordRetransmits(file, column, proto + " first " + ops);
        System.err.printf("  %s %s: first answer %d ms after start; first %d adds %.0f/s%n", column, proto, firstMs, ops, t.perSecond());
    }

    /** Columns of the pinhole table: IPv4 NAT mappings and IPv6 pinholes, the same requests otherwise. */
    static final String V4_COLUMN = "IPv4 mappings";
    static final String V6_COLUMN = "IPv6 pinholes";
    /** Issue 14's target: pinhole adds/s at least this fraction of the IPv4 mapping adds/s measured in the same run. */
    static final double PINHOLE_TARGET = 0.8;

    /**
     * Pinhole adds/s against IPv4 mapping adds/s, sequential, one client per family (192.168.77.10 asking for NAT
     * mappings of its TCP ports, fd00:77::10 for pinholes to its own): PCP MAP (a delete is the same MAP with lifetime
     * 0) and UPnP (AddPortMapping/DeletePortMapping on WANIPConnection, AddPinhole/DeletePinhole on
     * WANIPv6FirewallControl:1). Per protocol a warm-up of {@code warmup} adds and deletes per family, then
     * {@code rounds} rounds of {@code ops} adds then {@code ops} deletes per family, the family that goes first
     * alternating from round to round so that a change in the machine's load weighs on both alike; rates are all
     * of a family's operations over their summed time, p50/p99 over all of them. Any refusal or missing answer ends
     * the run (thrown, with the reason). Notes say each protocol's ratio against {@link #PINHOLE_TARGET}.
     */
    static void pinholes(Path file, InetAddress gw4, InetAddress gw6, int warmup, int ops, int rounds) throws Exception {
        InetAddress me4 = InetAddress.getByName(SEQUENTIAL_CLIENT);
        InetAddress me6 = InetAddress.getByName("fd00:77::10");
        int first = 30_000;
        for (Proto proto : List.of(Proto.PCP, Proto.UPNP)) {
            Client[] cs = {client(proto, gw4, me4), client(proto, gw6, me6)};
            for (Client c : cs) {
                sequential(c, true, first, warmup);
                sequential(c, false, first, warmup);
            }
            RETRANSMITS.set(0);
            List<List<Timed>> adds = List.of(new ArrayList<>(), new ArrayList<>());
            List<List<Timed>> deletes = List.of(new ArrayList<>(), new ArrayList<>());
            long[] retransmits = new long[2];
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < 2; k++) {
                    int f = (r + k) % 2; // 0 = IPv4, 1 = IPv6; round 0 starts with IPv4, round 1 with IPv6, ...
                    adds.get(f).add(sequential(cs[f], true, first, ops));
                    deletes.get(f).add(sequential(cs[f], false, first, ops));
                    retransmits[f] += RETRANSMITS.getAndSet(0);
                }
                System.err.printf("  %s round %d of %d done%n", proto, r + 1, rounds);
            }
            String add = proto == Proto.PCP ? "PCP MAP add" : "UPnP AddPortMapping | AddPinhole";
            String delete = proto == Proto.PCP ? "PCP MAP delete (lifetime 0)" : "UPnP DeletePortMapping | DeletePinhole";
            double[] addRate = new double[2];
            for (int f = 0; f < 2; f++) {
                String column = f == 0 ? V4_COLUMN : V6_COLUMN;
                Timed a = merge(adds.get(f));
                Timed d = merge(deletes.get(f));
                addRate[f] = a.perSecond();
                record(file, column, add, a);
                record(file, column, delete, d);
                if (retransmits[f] > 0) {
                    record(file, column, proto + ": retransmitted requests", retransmits[f], Double.NaN, Double.NaN, (int) retransmits[f]);
                }
                System.err.printf("  %s %s: %.0f/s, p50 %.2f ms, p99 %.2f ms; delete %.0f/s%n", column, add, a.perSecond(),
                        BenchSupport.millisAt(a.sortedNanos(), 0.50), BenchSupport.millisAt(a.sortedNanos(), 0.99), d.perSecond());
            }
            double ratio = addRate[1] / addRate[0];
            note(file, String.format(Locale.ROOT, "%s: pinhole adds %.0f/s = %.2f× the IPv4 mapping adds (%.0f/s): target >= %.1f×: %s",
                    proto == Proto.PCP ? "PCP MAP" : "UPnP AddPinhole vs AddPortMapping", addRate[1], ratio, addRate[0], PINHOLE_TARGET,
                    ratio >= PINHOLE_TARGET ? "met" : "NOT met"));
        }
    }

    /** Several runs as one: their operations over their summed time, their latencies together. */
    static Timed merge(List<Timed> runs) {
        return new Timed(runs.stream().mapToInt(Timed::ops).sum(), runs.stream().mapToLong(Timed::elapsedNanos).sum(),
                runs.stream().flatMapToLong(t -> Arrays.stream(t.sortedNanos())).sorted().toArray());
    }

    /** Waits until the gateway answers a NAT-PMP add (of port 11 000), for at most 60 s. */
    static void ready(InetAddress gw) throws IOException {
        Client c = client(Proto.NATPMP, gw, InetAddress.getByName(SEQUENTIAL_CLIENT));
        long deadline = System.currentTimeMillis() + 60_000;
        while (!c.tryOnce(11_000, 100)) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("no NAT-PMP answer from " + gw.getHostAddress() + " within 60 s");
            }
        }
    }

    /**
     * Per protocol: a warm-up pass of adds and deletes, then the measured sequential and concurrent passes. A pass that
     * fails (a refusal, no answer: e.g. the gateway died) is recorded as failed with its reason, and the next runs.
     */
    static void warm(Path file, String column, InetAddress gw, int warmup, int ops, int clients, int perClient) throws Exception {
        int base = 12_000;
        for (Proto proto : Proto.values()) {
            Client c = client(proto, gw, InetAddress.getByName(SEQUENTIAL_CLIENT));
            int first = base;
            int cwarm = base + warmup + ops;
            int warmPerClient = Math.min(perClient, CONCURRENT_WARMUP);
            int cbase = cwarm + warmPerClient * clients;
            base = cbase + perClient * clients;
            if (!pass(file, column, proto + " warm-up", () -> {
                sequential(c, true, first, warmup);
                sequential(c, false, first, warmup);
                return null;
            }, false)) {
                continue;
            }
            // Its own row: a gateway that fails under many clients at once (miniupnpd's UPnP resets connections)
            // still has its sequential figures measured.
            if (warmPerClient > 0) {
                pass(file, column, proto + " warm-up, " + clients + " clients", () -> {
                    concurrent(proto, gw, clients, true, cwarm, warmPerClient);
                    concurrent(proto, gw, clients, false, cwarm, warmPerClient);
                    return null;
                }, false);
            }
            RETRANSMITS.set(0);
            pass(file, column, proto + " add, 1 client", () -> sequential(c, true, first + warmup, ops), true);
            pass(file, column, proto + " delete, 1 client", () -> sequential(c, false, first + warmup, ops), true);
            pass(file, column, proto + " add, " + clients + " clients", () -> concurrent(proto, gw, clients, true, cbase, perClient), true);
            pass(file, column, proto + " delete, " + clients + " clients", () -> concurrent(proto, gw, clients, false, cbase, perClient),
                    true);
            recordRetransmits(file, column, proto + " warm");
        }
    }

    interface Pass {
        Timed run() throws Exception;
    }

    /** Runs one pass; records it (when {@code report}) or its failure (always); false when it failed. */
    static boolean pass(Path file, String column, String row, Pass pass, boolean report) throws IOException {
        try {
            Timed t = pass.run();
            if (report) {
                record(file, column, row, t);
                System.err.printf("  %s %s: %.0f/s, p50 %.2f ms, p99 %.2f ms%n", column, row, t.perSecond(),
                        BenchSupport.millisAt(t.sortedNanos(), 0.50), BenchSupport.millisAt(t.sortedNanos(), 0.99));
            }
            return true;
        } catch (Exception e) {
            Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
            record(file, column, row, Double.NaN, Double.NaN, Double.NaN, 0);
            note(file, column + ": " + row + " failed: " + cause.getMessage());
            System.err.printf("  %s %s: FAILED: %s%n", column, row, cause.getMessage());
            return false;
        }
    }

    /** A line printed under the table. */
    static synchronized void note(Path file, String text) throws IOException {
        Files.writeString(file.resolveSibling(file.getFileName() + ".notes"), text + "\n", StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    /**
     * NAT-PMP add then delete of one mapping, {@code total} times over {@code clients} clients, stopping at
     * {@code maxSeconds}; the RSS of {@code pid} is sampled every tenth of the way and recorded with the figures.
     */
    static void churn(Path file, String column, InetAddress gw, long pid, int total, int clients, int maxSeconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(maxSeconds);
        AtomicLong done = new AtomicLong();
        RETRANSMITS.set(0);
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long t0 = System.nanoTime();
        List<Future<?>> jobs = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            InetAddress me = clientAddress(i);
            int share = total / clients + (i < total % clients ? 1 : 0);
            jobs.add(pool.submit(() -> {
                Client c = client(Proto.NATPMP, gw, me);
                for (int n = 0; n < share && System.nanoTime() < deadline; n++) {
                    int port = 20_000 + (n % 1000);
                    c.request(true, port);
                    c.request(false, port);
                    done.incrementAndGet();
                }
                return null;
            }));
        }
        pool.shutdown();
        List<double[]> samples = new ArrayList<>();
        long step = Math.max(1, total / 10);
        long next = step;
        while (!pool.awaitTermination(50, TimeUnit.MILLISECONDS)) {
            if (done.get() >= next) {
                samples.add(new double[] {done.get(), rssMiB(pid)});
                System.err.printf("  churn: %d add+delete, RSS %.1f MiB%n", done.get(), samples.get(samples.size() - 1)[1]);
                next += step;
            }
        }
        for (Future<?> f : jobs) {
            f.get();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        samples.add(new double[] {done.get(), rssMiB(pid)});
        double max = samples.stream().mapToDouble(s -> s[1]).max().orElse(Double.NaN);
        double afterWarmup = samples.get(Math.min(1, samples.size() - 1))[1]; // the second tenth: JIT and pools warmed up
        double end = samples.get(samples.size() - 1)[1];
        record(file, column, "churn: add+delete pairs done (of " + total + ")", done.get(), Double.NaN, Double.NaN, (int) done.get());
        record(file, column, "churn: pairs/s", done.get() / seconds, Double.NaN, Double.NaN, (int) done.get());
        recordRetransmits(file, column, "churn");
        record(file, column, "churn: RSS after warm-up (MiB)", afterWarmup, Double.NaN, Double.NaN, 0);
        record(file, column, "churn: RSS max (MiB)", max, Double.NaN, Double.NaN, 0);
        record(file, column, "churn: RSS at end (MiB)", end, Double.NaN, Double.NaN, 0);
        StringBuilder s = new StringBuilder();
        for (double[] x : samples) {
            s.append(String.format(Locale.ROOT, " %.0fk:%.0f", x[0] / 1000, x[1]));
        }
        Files.writeString(file.resolveSibling(file.getFileName() + ".churn"), column + "\t" + s.toString().trim() + "\n",
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** {@code ops} requests one after another on ports {@code firstPort…}. */
    static Timed sequential(Client c, boolean add, int firstPort, int ops) throws IOException {
        long[] nanos = new long[ops];
        long t0 = System.nanoTime();
        for (int i = 0; i < ops; i++) {
            long s = System.nanoTime();
            c.request(add, firstPort + i);
            nanos[i] = System.nanoTime() - s;
        }
        long elapsed = System.nanoTime() - t0;
        Arrays.sort(nanos);
        return new Timed(ops, elapsed, nanos);
    }

    /**
     * {@code clients} clients, each on its own address, each {@code perClient} requests one after another, client i on
     * ports {@code firstPort + i * perClient…}.
     */
    static Timed concurrent(Proto proto, InetAddress gw, int clients, boolean add, int firstPort, int perClient) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Client> cs = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                cs.add(client(proto, gw, clientAddress(i)));
            }
            List<Future<long[]>> jobs = new ArrayList<>();
            // Every client's thread is started and waiting before the clock starts: the pass measures the gateway,
            // not how long the JVM takes to start 16 threads (the first clients used to run alone meanwhile).
            CountDownLatch ready = new CountDownLatch(clients);
            CountDownLatch go = new CountDownLatch(1);
            for (int i = 0; i < clients; i++) {
                Client c = cs.get(i);
                int from = firstPort + i * perClient; // disjoint external ports: no owner conflicts, no port search
                jobs.add(pool.submit(() -> {
                    ready.countDown();
                    go.await();
                    return sequential(c, add, from, perClient).sortedNanos();
                }));
            }
            if (!ready.await(1, TimeUnit.MINUTES)) {
                throw new IllegalStateException("the " + clients + " client threads did not start within a minute");
            }
            long t0 = System.nanoTime();
            go.countDown();
            List<long[]> all = new ArrayList<>();
            for (Future<long[]> f : jobs) {
                all.add(f.get(10, TimeUnit.MINUTES));
            }
            long elapsed = System.nanoTime() - t0;
            return new Timed(clients * perClient, elapsed, all.stream().flatMapToLong(Arrays::stream).sorted().toArray());
        } finally {
            pool.shutdownNow();
        }
    }

    static InetAddress clientAddress(int i) throws IOException {
        return InetAddress.getByName("192.168.77." + (100 + i));
    }

    record Timed(int ops, long elapsedNanos, long[] sortedNanos) {
        double perSecond() {
            return ops / (elapsedNanos / 1e9);
        }
    }

    // ---------------------------------------------------------------- clients

    /** One client on one LAN address. */
    interface Client {
        /** Adds (or deletes) the mapping of TCP port {@code port} to itself, external port {@code port} asked for. */
        void request(boolean add, int port) throws IOException;

        /** One add with a short timeout; false when nothing (or nothing valid) answered. For start-up polling. */
        boolean tryOnce(int port, int timeoutMs) throws IOException;
    }

    static Client client(Proto proto, InetAddress gw, InetAddress me) throws IOException {
        return proto == Proto.UPNP ? new UpnpClient(gw, me) : new UdpClient(proto, gw, me);
    }

    /** NAT-PMP (RFC 6886) or PCP (RFC 6887) MAP over UDP port 5351. */
    static final class UdpClient implements Client {
        private final Proto proto;
        private final InetSocketAddress server;
        private final InetAddress me;
        private final DatagramSocket socket;
        private final byte[] buf = new byte[1100];

        UdpClient(Proto proto, InetAddress gw, InetAddress me) throws IOException {
            this.proto = proto;
            this.server = new InetSocketAddress(gw, 5351);
            this.me = me;
            this.socket = new DatagramSocket(new InetSocketAddress(me, 0));
        }

        @Override
        public void request(boolean add, int port) throws IOException {
            String why = exchange(add, port, REPLY_TIMEOUT_MS);
            if (why != null) {
                throw new IllegalStateException(proto + " " + (add ? "add" : "delete") + " of port " + port + " from " + me.getHostAddress()
                        + ": " + why);
            }
        }

        @Override
        public boolean tryOnce(int port, int timeoutMs) throws IOException {
            return exchange(true, port, timeoutMs) == null;
        }

        /**
         * Null on success, else why not. Retransmits as RFC 6886 §3.1 clients do (after 250 ms, then doubling) until
         * {@code timeoutMs} has passed; each retransmission is counted in {@link #RETRANSMITS}.
         */
        private String exchange(boolean add, int port, int timeoutMs) throws IOException {
            byte[] req = proto == Proto.NATPMP ? natpmp(add, port) : pcp(add, port);
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            long wait = Math.min(250, timeoutMs);
            for (boolean first = true; ; first = false) {
                long now = System.nanoTime();
                if (now >= end) {
                    return "no reply within " + timeoutMs + " ms";
                }
                if (!first) {
                    RETRANSMITS.incrementAndGet();
                }
                socket.send(new DatagramPacket(req, req.length, server));
                // No overflow, and no zero timeout (which would wait forever) in the last millisecond before the end:
                // that last millisecond used to resend at once, doubling the wait each time, until it overflowed into
                // a timeout of 24 days (a warm client polling a gateway that had not yet opened its port).
                long resendAt = now + Math.min(end - now, TimeUnit.MILLISECONDS.toNanos(wait));
                wait = Math.min(wait * 2, 64_000); // RFC 6886 §3.1: 250 ms doubling, the last wait 64 s
                while (true) {
                    long leftNanos = resendAt - System.nanoTime();
                    if (leftNanos <= 0) {
                        break;
                    }
                    socket.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(leftNanos + 999_999)));
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    try {
                        socket.receive(p);
                    } catch (SocketTimeoutException e) {
                        break;
                    } catch (java.net.PortUnreachableException e) {
                        return "port unreachable";
                    }
                    ByteBuffer r = ByteBuffer.wrap(buf, 0, p.getLength());
                    if (proto == Proto.NATPMP && p.getLength() >= 16 && r.get(1) == (byte) (128 + 2) && (r.getShort(8) & 0xffff) == port) {
                        int result = r.getShort(2) & 0xffff;
                        return result == 0 ? null : "NAT-PMP result code " + result;
                    }
                    if (proto == Proto.PCP && p.getLength() >= 60 && r.get(0) == 2 && (r.get(1) & 0xff) == 0x81
                            && (r.getShort(24 + 16) & 0xffff) == port) {
                        int result = r.get(3) & 0xff;
                        if (result != 0) {
                            return "PCP result code " + result + (result < PCP_RESULTS.length ? " " + PCP_RESULTS[result] : "");
                        }
                        if (add && me instanceof Inet6Address && ((r.getShort(42) & 0xffff) != port
                                || !Arrays.equals(Arrays.copyOfRange(buf, 44, 60), me.getAddress()))) {
                            return "a pinhole's answer names external port " + (r.getShort(42) & 0xffff) + " and address "
                                    + InetAddress.getByAddress(Arrays.copyOfRange(buf, 44, 60)).getHostAddress()
                                    + ", not the host's own (no translation)";
                        }
                        return null;
                    }
                    // a stray or stale datagram (the answer to an earlier retransmission): keep waiting for ours
                }
            }
        }

        /** RFC 6887 §7.4's result codes by number. */
        private static final String[] PCP_RESULTS = {"SUCCESS", "UNSUPP_VERSION", "NOT_AUTHORIZED", "MALFORMED_REQUEST", "UNSUPP_OPCODE",
            "UNSUPP_OPTION", "MALFORMED_OPTION", "NETWORK_FAILURE", "NO_RESOURCES", "UNSUPP_PROTOCOL", "USER_EX_QUOTA",
            "CANNOT_PROVIDE_EXTERNAL", "ADDRESS_MISMATCH", "EXCESSIVE_REMOTE_PEERS"};

        private static byte[] natpmp(boolean add, int port) {
            return ByteBuffer.allocate(12).put((byte) 0).put((byte) 2).putShort((short) 0).putShort((short) port)
                    .putShort((short) (add ? port : 0)).putInt(add ? LIFETIME : 0).array();
        }

        /**
         * A MAP of TCP {@code port}; from an IPv6 client its own address as the client address and {@code ::} as the
         * suggested external address (no preference: a pinhole's external address is the host's own, RFC 6887 §11.3).
         */
        private byte[] pcp(boolean add, int port) {
            boolean v6 = me instanceof Inet6Address;
            ByteBuffer b = ByteBuffer.allocate(60);
            b.put((byte) 2).put((byte) 1).putShort((short) 0).putInt(add ? LIFETIME : 0);
            b.put(v6 ? me.getAddress() : mapped(me.getAddress()));
            b.putInt(0x6e6174).putInt(0x67772d62).putInt(port); // nonce: one per port, the same for its delete
            b.put((byte) 6).put(new byte[3]).putShort((short) port).putShort((short) (add ? port : 0));
            b.put(v6 ? new byte[16] : mapped(new byte[4]));
            return b.array();
        }

        private static byte[] mapped(byte[] v4) {
            byte[] a = new byte[16];
            a[10] = (byte) 0xff;
            a[11] = (byte) 0xff;
            System.arraycopy(v4, 0, a, 12, 4);
            return a;
        }
    }

    /**
     * UPnP IGD over a new HTTP connection per call, found by SSDP the way upnpc finds it. From an IPv4 address:
     * WANIPConnection's AddPortMapping/DeletePortMapping, the IGD searched on 239.255.255.250 (IGD:1). From an IPv6
     * address: WANIPv6FirewallControl:1's AddPinhole (any remote host and port, this host's own address)/DeletePinhole
     * by the UniqueID AddPinhole returned, the IGD:2 searched on ff02::c of the interface holding that address, as
     * {@code upnpc -6} does.
     */
    static final class UpnpClient implements Client {
        private static final Pattern SERVICE = Pattern.compile(
                "<serviceType>(urn:schemas-upnp-org:service:WANIPConnection:\\d)</serviceType>.*?<controlURL>([^<]+)</controlURL>",
                Pattern.DOTALL);
        private static final Pattern FIREWALL = Pattern.compile(
                "<serviceType>(urn:schemas-upnp-org:service:WANIPv6FirewallControl:1)</serviceType>.*?<controlURL>([^<]+)</controlURL>",
                Pattern.DOTALL);
        private static final Pattern UNIQUE_ID = Pattern.compile("<UniqueID>\\s*(\\d+)\\s*</UniqueID>");
        private final InetAddress gw;
        private final InetAddress me;
        private final boolean v6;
        /** The UniqueID of each pinhole this client added, by port (IPv6 only). */
        private final Map<Integer, String> pinholes = new java.util.HashMap<>();
        private URI control;
        private String service;
        String lastFailure = "no SSDP answer";

        UpnpClient(InetAddress gw, InetAddress me) {
            this.gw = gw;
            this.me = me;
            this.v6 = me instanceof Inet6Address;
        }

        @Override
        public void request(boolean add, int port) throws IOException {
            if (control == null && !discover(REPLY_TIMEOUT_MS)) {
                throw new IllegalStateException("UPnP: no SSDP answer from " + gw.getHostAddress() + " within " + REPLY_TIMEOUT_MS + " ms");
            }
            String action = v6 ? (add ? "AddPinhole" : "DeletePinhole") : add ? "AddPortMapping" : "DeletePortMapping";
            String id = null;
            if (v6 && !add) {
                id = pinholes.get(port);
                if (id == null) {
                    throw new IllegalStateException("UPnP DeletePinhole of port " + port + ": this client added no pinhole there");
                }
            }
            String reply = soap(action, port, id);
            if (!reply.startsWith("HTTP/1.1 200") && !reply.startsWith("HTTP/1.0 200")) {
                throw new IllegalStateException("UPnP " + action + " of port " + port + " from " + me.getHostAddress() + ": "
                        + reply.lines().findFirst().orElse("(empty reply)") + " " + errorCode(reply));
            }
            if (v6 && add) {
                Matcher m = UNIQUE_ID.matcher(reply);
                if (!m.find()) {
                    throw new IllegalStateException("UPnP AddPinhole of port " + port + ": 200 without a UniqueID: " + reply);
                }
                pinholes.put(port, m.group(1));
            } else if (v6) {
                pinholes.remove(port);
            }
        }

        @Override
        public boolean tryOnce(int port, int timeoutMs) throws IOException {
            try {
                if (control == null && !discover(timeoutMs)) {
                    return false;
                }
                request(true, port);
                return true;
            } catch (IOException | IllegalStateException e) {
                lastFailure = e.toString();
                return false;
            }
        }

        /**
         * M-SEARCH from this client's address (IGD:1 on 239.255.255.250, or IGD:2 on ff02::c of the interface holding
         * an IPv6 address); the first answer from the gateway gives the description.
         */
        private boolean discover(int timeoutMs) throws IOException {
            InetSocketAddress group;
            String host;
            String target;
            if (v6) {
                NetworkInterface nif = NetworkInterface.getByInetAddress(me);
                if (nif == null) {
                    throw new IllegalStateException("no interface holds " + me.getHostAddress());
                }
                group = new InetSocketAddress(Inet6Address.getByAddress(null, InetAddress.getByName("ff02::c").getAddress(), nif), 1900);
                host = "[FF02::C]:1900";
                target = "urn:schemas-upnp-org:device:InternetGatewayDevice:2";
            } else {
                group = new InetSocketAddress("239.255.255.250", 1900);
                host = "239.255.255.250:1900";
                target = "urn:schemas-upnp-org:device:InternetGatewayDevice:1";
            }
            byte[] search = ("M-SEARCH * HTTP/1.1\r\nHOST: " + host + "\r\nST: " + target + "\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(me, 0))) {
                s.setSoTimeout(timeoutMs);
                s.send(new DatagramPacket(search, search.length, group));
                byte[] buf = new byte[2048];
                long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
                while (System.nanoTime() < end) {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    try {
                        s.receive(p);
                    } catch (SocketTimeoutException e) {
                        return false;
                    }
                    Matcher m = Pattern.compile("(?im)^LOCATION:\\s*(\\S+)").matcher(new String(buf, 0, p.getLength(), StandardCharsets.US_ASCII));
                    if (Arrays.equals(p.getAddress().getAddress(), gw.getAddress()) && m.find()) {
                        URI description = URI.create(m.group(1));
                        String text = http(description, "GET " + description.getRawPath() + " HTTP/1.1\r\nHost: " + description.getHost()
                                + ":" + description.getPort() + "\r\nConnection: close\r\n\r\n", new byte[0]);
                        Matcher sm = (v6 ? FIREWALL : SERVICE).matcher(text);
                        if (!sm.find()) {
                            throw new IllegalStateException("no " + (v6 ? "WANIPv6FirewallControl:1" : "WANIPConnection") + " in " + description);
                        }
                        service = sm.group(1);
                        control = description.resolve(sm.group(2).trim());
                        return true;
                    }
                }
                return false;
            }
        }

        private String soap(String action, int port, String uniqueId) throws IOException {
            String args = switch (action) {
                case "AddPortMapping" -> "<NewRemoteHost></NewRemoteHost><NewExternalPort>" + port + "</NewExternalPort><NewProtocol>TCP</NewProtocol>"
                        + "<NewInternalPort>" + port + "</NewInternalPort><NewInternalClient>" + me.getHostAddress()
                        + "</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>bench</NewPortMappingDescription>"
                        + "<NewLeaseDuration>" + LIFETIME + "</NewLeaseDuration>";
                case "DeletePortMapping" -> "<NewRemoteHost></NewRemoteHost><NewExternalPort>" + port + "</NewExternalPort><NewProtocol>TCP</NewProtocol>";
                case "AddPinhole" -> "<RemoteHost></RemoteHost><RemotePort>0</RemotePort><InternalClient>" + me.getHostAddress()
                        + "</InternalClient><InternalPort>" + port + "</InternalPort><Protocol>6</Protocol><LeaseTime>" + LIFETIME
                        + "</LeaseTime>";
                case "DeletePinhole" -> "<UniqueID>" + uniqueId + "</UniqueID>";
                default -> throw new IllegalArgumentException(action);
            };
            byte[] body = ("<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                    + "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:" + action + " xmlns:u=\"" + service
                    + "\">" + args + "</u:" + action + "></s:Body></s:Envelope>\r\n").getBytes(StandardCharsets.UTF_8);
            String head = "POST " + control.getRawPath() + " HTTP/1.1\r\nHost: " + control.getHost() + ":" + control.getPort()
                    + "\r\nContent-Type: text/xml; charset=\"utf-8\"\r\nSOAPAction: \"" + service + "#" + action
                    + "\"\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
            return http(control, head, body);
        }

        /** One request on a new connection from this client's address; the whole reply (read to end of stream). */
        private String http(URI to, String head, byte[] body) throws IOException {
            try (Socket s = new Socket()) {
                s.setSoTimeout(REPLY_TIMEOUT_MS);
                s.bind(new InetSocketAddress(me, 0));
                s.connect(new InetSocketAddress(InetAddress.getByName(to.getHost()), to.getPort()), REPLY_TIMEOUT_MS);
                OutputStream out = s.getOutputStream();
                out.write(head.getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                InputStream in = s.getInputStream();
                ByteArrayOutputStream reply = new ByteArrayOutputStream();
                byte[] buf = new byte[4096];
                for (int n; (n = in.read(buf)) > 0; ) {
                    reply.write(buf, 0, n);
                }
                return reply.toString(StandardCharsets.UTF_8);
            }
        }

        private static String errorCode(String reply) {
            Matcher m = Pattern.compile("<errorCode>(\\d+)</errorCode>\\s*<errorDescription>([^<]*)").matcher(reply);
            return m.find() ? "UPnP error " + m.group(1) + " " + m.group(2) : "";
        }
    }

    // ---------------------------------------------------------------- results

    static double rssMiB(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
                }
            }
            throw new IllegalStateException("no VmRSS for " + pid);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A row with the retransmissions of the phase just run, when there were any (UDP protocols only). */
    static void recordRetransmits(Path file, String column, String phase) throws IOException {
        long n = RETRANSMITS.getAndSet(0);
        if (n > 0) {
            record(file, column, phase + ": retransmitted requests", n, Double.NaN, Double.NaN, (int) n);
        }
    }

    static void record(Path file, String column, String row, Timed t) throws IOException {
        record(file, column, row, t.perSecond(), BenchSupport.millisAt(t.sortedNanos(), 0.50), BenchSupport.millisAt(t.sortedNanos(), 0.99),
                t.ops());
    }

    static synchronized void record(Path file, String column, String row, double value, double p50, double p99, int ops)
            throws IOException {
        Files.writeString(file, String.format(Locale.ROOT, "%s\t%s\t%.3f\t%.4f\t%.4f\t%d%n", column, row, value, p50, p99, ops),
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /**
     * One table: a row per measurement, per column "value p50 p99" (value = req/s, or the quantity the row names),
     * then each column's ratio to {@code base} (value / base value; for rows in ms the base's over the column's,
     * so above 1 means natgw is better everywhere).
     */
    static void report(Path file, String base) throws IOException {
        Map<String, Map<String, String[]>> rows = new LinkedHashMap<>();
        List<String> columns = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            String[] f = line.split("\t");
            if (!columns.contains(f[0])) {
                columns.add(f[0]);
            }
            rows.computeIfAbsent(f[1], k -> new LinkedHashMap<>()).put(f[0], f);
        }
        columns.remove(base);
        columns.add(0, base);
        List<Map.Entry<String, Map<String, String[]>>> ordered = new ArrayList<>(rows.entrySet());
        ordered.sort(java.util.Comparator.comparingInt(ControlPlaneBench::rowRank)); // stable: cold, warm, memory; by protocol
        rows = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, String[]>> e : ordered) {
            rows.put(e.getKey(), e.getValue());
        }
        PrintWriter out = new PrintWriter(System.out, true);
        StringBuilder h = new StringBuilder(String.format("%-42s", ""));
        for (String c : columns) {
            h.append(String.format(" | %-28s", c));
        }
        for (String c : columns.subList(1, columns.size())) {
            h.append(String.format(" | %-10s", "ratio"));
        }
        out.println(h);
        StringBuilder h2 = new StringBuilder(String.format("%-42s", "request (req/s unless named)"));
        for (String ignored : columns) {
            h2.append(String.format(" | %10s %8s %8s", "req/s", "p50 ms", "p99 ms"));
        }
        for (String c : columns.subList(1, columns.size())) {
            String tag = c.substring(c.lastIndexOf(' ') + 1);
            h2.append(String.format(" | %-10s", tag.length() > 10 ? tag.substring(0, 10) : tag));
        }
        out.println(h2);
        out.println("-".repeat(h2.length()));
        for (Map.Entry<String, Map<String, String[]>> r : rows.entrySet()) {
            StringBuilder s = new StringBuilder(String.format("%-42s", r.getKey()));
            for (String c : columns) {
                String[] f = r.getValue().get(c);
                s.append(f == null ? String.format(" | %10s %8s %8s", "–", "", "")
                        : f[2].equals("NaN") ? String.format(" | %10s %8s %8s", "failed", "", "")
                        : String.format(" | %10s %8s %8s", num(Double.parseDouble(f[2])), ms(f[3]), ms(f[4])));
            }
            String[] b = r.getValue().get(base);
            for (String c : columns.subList(1, columns.size())) {
                String[] f = r.getValue().get(c);
                String ratio = "";
                if (b != null && f != null && !b[2].equals("NaN") && !f[2].equals("NaN") && !r.getKey().contains("RSS") && !r.getKey().contains("done")
                        && !r.getKey().contains("retransmitted")) {
                    double bv = Double.parseDouble(b[2]);
                    double fv = Double.parseDouble(f[2]);
                    ratio = String.format(Locale.ROOT, "%.1f×", r.getKey().contains("(ms)") ? bv / fv : fv / bv);
                }
                s.append(String.format(" | %-10s", ratio));
            }
            out.println(s);
        }
        Path notes = file.resolveSibling(file.getFileName() + ".notes");
        if (Files.exists(notes)) {
            Files.readAllLines(notes).forEach(out::println);
        }
        Path churn = file.resolveSibling(file.getFileName() + ".churn");
        if (Files.exists(churn)) {
            for (String line : Files.readAllLines(churn)) {
                String[] f = line.split("\t");
                out.println("RSS during the churn, " + f[0] + " (add+delete pairs done:MiB): " + f[1]);
            }
        }
    }

    /** Cold rows first, then warm, then memory; within each, NAT-PMP, PCP, UPnP. */
    static int rowRank(Map.Entry<String, ?> row) {
        String r = row.getKey();
        int section = r.contains("RSS") || r.startsWith("churn") ? 2 : r.contains("first") ? 0 : 1;
        int proto = r.startsWith("NATPMP") ? 0 : r.startsWith("PCP") ? 1 : r.startsWith("UPNP") ? 2 : 3;
        return section * 10 + proto;
    }

    private static String num(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String ms(String v) {
        return v.equals("NaN") ? "" : String.format(Locale.ROOT, "%.2f", Double.parseDouble(v));
    }
}
