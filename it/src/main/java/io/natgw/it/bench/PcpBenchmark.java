package io.natgw.it.bench;

import io.natgw.conf.ConfigLoader;
import io.natgw.conf.NatgwConfig;
import io.natgw.conf.Protocol;
import io.natgw.core.Forwarder;
import io.natgw.core.MappingTable;
import io.natgw.pcp.NatPmpCodec;
import io.natgw.pcp.NatPmpRequest;
import io.natgw.pcp.NatPmpResponse;
import io.natgw.pcp.NatPmpResultCode;
import io.natgw.pcp.PcpCodec;
import io.natgw.pcp.PcpNonce;
import io.natgw.pcp.PcpOpcode;
import io.natgw.pcp.PcpOpcodeData;
import io.natgw.pcp.PcpRequest;
import io.natgw.pcp.PcpResultCode;
import io.natgw.pcp.PcpServer;
import io.natgw.persistence.JournalLeaseStore;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * NAT-PMP and PCP mapping requests per second and their round-trip latency against a running {@link PcpServer}
 * whose table is durable ({@link JournalLeaseStore}: the reply leaves only after the fsync). New mappings and
 * refreshes separately, with one sequential client and with 16 concurrent clients (each its own loopback
 * address, so its own owner). It measures the front-end and the table alone and says so in its output
 * ({@link #LEAVES_OUT}): the dataplane is not part of it ({@link Forwarder#NONE}: no relay is bound or closed per
 * mapping), nor the daemon as deployed. {@code bench/control-plane.sh} measures the deployed daemon. A program that
 * prints figures, not a test: {@code -Dnatgw.bench.dir=DIR} puts the journal on another disk (default: the temp directory).
 */
public final class PcpBenchmark {

    private static final int SEQUENTIAL_OPS = 5_000;
    private static final int CONCURRENT_CLIENTS = 16;
    private static final int OPS_PER_CONCURRENT_CLIENT = 1_000;
    private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(2);

    /** Printed first: what these figures do not include, so they are never quoted as the daemon's. */
    static final String LEAVES_OUT = """
            NOT the deployed daemon's figures. Left out: the dataplane (Forwarder.NONE: no relay listener is bound or
            closed per mapping), the daemon's launcher, JVM options and console logging (the log goes to a file), the
            rate limit and quotas (lifted), and a network between client and gateway (in-process server, loopback).
            The deployed daemon beside miniupnpd: sudo bench/control-plane.sh
            """;

    enum Wire { NATPMP, PCP }

    /** One run's figures. */
    record Result(Wire wire, String kind, int clients, int ops, Duration elapsed, long[] sortedNanos) implements BenchSupport.Timed {
    }

    public static void main(String[] args) throws Exception {
        Path root = BenchSupport.workDir("natgw-pcp-bench-", "INFO");
        try {
            System.out.printf("natgw NAT-PMP/PCP benchmark: requests over loopback UDP to PcpServer, durable table (journal + fsync)%n");
            System.out.println(LEAVES_OUT);
            BenchSupport.printEnvironment(root);
            runAll(root.resolve("warm-up"), 3_000, 300); // JIT warm-up, not reported

            System.out.printf("%-7s %-8s %7s %6s %8s %8s %8s %8s %8s%n", "proto", "kind", "clients", "ops", "seconds", "req/s",
                    "p50 ms", "p99 ms", "max ms");
            for (Result r : runAll(root.resolve("runs"), SEQUENTIAL_OPS, OPS_PER_CONCURRENT_CLIENT)) {
                System.out.printf("%-7s %-8s %7d %6d %8.2f %8.0f %8.3f %8.3f %8.3f%n", r.wire().name().toLowerCase(), r.kind(),
                        r.clients(), r.ops(), r.elapsed().toNanos() / 1e9, r.opsPerSecond(), r.millisAt(0.50), r.millisAt(0.99),
                        BenchSupport.maxMillis(r.sortedNanos()));
            }
            System.out.printf("%ntarget: >= 1500 durable new mappings/s with one sequential client, p99 < 2 ms%n");
        } finally {
            BenchSupport.deleteTree(root);
        }
    }

    /** For each protocol: a fresh durable table and server; new mappings then their refreshes, 1 then 16 clients. */
    static List<Result> runAll(Path dir, int sequentialOps, int opsPerConcurrentClient) throws Exception {
        List<Result> results = new ArrayList<>();
        for (Wire wire : Wire.values()) {
            Path data = Files.createDirectories(dir.resolve(wire.name().toLowerCase()));
            Clock clock = Clock.systemUTC();
            NatgwConfig config = config(data);
            MappingTable table = new MappingTable(config, JournalLeaseStore.open(data, clock), Forwarder.NONE, clock);
            table.start();
            PcpServer server = new PcpServer(config, table);
            server.start();
            try {
                InetSocketAddress to = server.localAddresses().get(0);
                int concurrentBase = 1024 + sequentialOps; // above the sequential client's ports: no owner conflicts
                results.add(run(wire, "new", to, 1, sequentialOps, 0, 1024));
                results.add(run(wire, "refresh", to, 1, sequentialOps, 0, 1024));
                results.add(run(wire, "new", to, CONCURRENT_CLIENTS, opsPerConcurrentClient, 1, concurrentBase));
                results.add(run(wire, "refresh", to, CONCURRENT_CLIENTS, opsPerConcurrentClient, 1, concurrentBase));
            } finally {
                server.close();
                table.close();
            }
        }
        return results;
    }

    /**
     * {@code clients} clients, each on its own address, each sending {@code ops} requests one after another (the
     * next when the previous was answered). "new" asks for internal ports never mapped; "refresh" repeats them.
     * Each client suggests external port = internal port, from {@code portBase} up, disjoint from every other client's
     * (another owner's port would make the table search for an alternative: a different benchmark).
     */
    static Result run(Wire wire, String kind, InetSocketAddress server, int clients, int ops, int addressBlock, int portBase)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<long[]>> futures = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int c = 0; c < clients; c++) {
                InetAddress address = client(addressBlock, c);
                int firstPort = portBase + c * ops; // clients want disjoint external ports: no conflicts, no port search
                futures.add(pool.submit(() -> client(wire, server, address, firstPort, ops)));
            }
            List<long[]> all = new ArrayList<>();
            for (Future<long[]> f : futures) {
                all.add(f.get());
            }
            Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);
            long[] sorted = all.stream().flatMapToLong(Arrays::stream).sorted().toArray();
            return new Result(wire, kind, clients, clients * ops, elapsed, sorted);
        } finally {
            pool.shutdownNow();
        }
    }

    /** One client: {@code ops} mapping requests for internal ports from {@code firstPort}, each awaited; round trips in ns. */
    private static long[] client(Wire wire, InetSocketAddress server, InetAddress address, int firstPort, int ops)
            throws IOException {
        long[] nanos = new long[ops];
        byte[] buf = new byte[1100];
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(address, 0))) {
            socket.setSoTimeout((int) REPLY_TIMEOUT.toMillis());
            for (int i = 0; i < ops; i++) {
                int port = firstPort + i;
                byte[] request = request(wire, address, port);
                long start = System.nanoTime();
                socket.send(new DatagramPacket(request, request.length, server));
                DatagramPacket reply = new DatagramPacket(buf, buf.length);
                try {
                    socket.receive(reply);
                } catch (SocketTimeoutException e) {
                    throw new IllegalStateException(address.getHostAddress() + ": no reply to request " + i + " within " + REPLY_TIMEOUT);
                }
                nanos[i] = System.nanoTime() - start;
                check(wire, ByteBuffer.wrap(buf, 0, reply.getLength()), address, i);
            }
        }
        return nanos;
    }

    private static byte[] request(Wire wire, InetAddress client, int port) {
        if (wire == Wire.NATPMP) {
            return NatPmpCodec.encodeRequest(new NatPmpRequest.Map(Protocol.TCP, port, port, 3600));
        }
        byte[] nonce = ByteBuffer.allocate(PcpNonce.LENGTH).putInt(port).array(); // one nonce per mapping, kept on refresh
        return PcpCodec.encodeRequest(new PcpRequest(PcpOpcode.MAP, 3600, client,
                new PcpOpcodeData.MapData(PcpNonce.of(nonce), Protocol.TCP.ianaNumber(), port, port, anyAddress()), List.of()));
    }

    private static void check(Wire wire, ByteBuffer reply, InetAddress client, int i) {
        try {
            boolean ok = wire == Wire.NATPMP
                    ? NatPmpCodec.decodeResponse(reply) instanceof NatPmpResponse.Map m && m.result() == NatPmpResultCode.SUCCESS
                    : PcpCodec.decodeResponse(reply).result() == PcpResultCode.SUCCESS;
            if (!ok) {
                throw new IllegalStateException(client.getHostAddress() + ": request " + i + " was refused");
            }
        } catch (io.natgw.pcp.PcpFormatException e) {
            throw new IllegalStateException(client.getHostAddress() + ": reply " + i + " does not decode: " + e.getMessage());
        }
    }

    /** The shipped defaults, on a port of its own, without rate limit or announcements, quotas out of the way. */
    static NatgwConfig config(Path dataDir) throws UnknownHostException {
        NatgwConfig d = ConfigLoader.defaults();
        NatgwConfig.Pcp pcp = new NatgwConfig.Pcp(true, 0, d.pcp().lifetimes(), false, List.of(), 0, false);
        return new NatgwConfig(d.source(), d.network(), dataDir, pcp, d.upnp(), d.admin(),
                new NatgwConfig.Limits(true, 1_000_000, 1_000_000), d.permissions(), List.of(), List.of(), d.dataplane());
    }

    /** Client {@code n} of a block: 127.0.(100 + block).(10 + n), so runs never share an owner. */
    private static InetAddress client(int block, int n) throws UnknownHostException {
        return InetAddress.getByAddress(new byte[] {127, 0, (byte) (100 + block), (byte) (10 + n)});
    }

    private static InetAddress anyAddress() {
        try {
            return InetAddress.getByAddress(new byte[4]);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The table logs an INFO line per mapping: to a file, as a daemon's log, not to the terminal being measured. */
    private PcpBenchmark() {
    }
}
