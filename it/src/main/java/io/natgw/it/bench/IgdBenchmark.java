package io.natgw.it.bench;

import io.natgw.conf.ConfigLoader;
import io.natgw.conf.NatgwConfig;
import io.natgw.core.Forwarder;
import io.natgw.core.MappingTable;
import io.natgw.igd.IgdServer;
import io.natgw.persistence.JournalLeaseStore;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * AddPortMapping and DeletePortMapping per second and their latency through the real UPnP path: HTTP over
 * loopback (a new connection per request, as miniupnpc does) → Netty → SoapShortcut (jupnp takes calls of any
 * other shape) → the table → the durable journal (fsync) → SOAP answer. Sequential and with 16 concurrent clients. A program that prints figures,
 * not a test. The dataplane is off ({@link Forwarder#NONE}), so the figures are the control path's, not socket
 * binding's; it prints what it leaves out ({@link #LEAVES_OUT}). {@code bench/control-plane.sh} measures the deployed
 * daemon.
 *
 * <p>Run: {@code java -cp "it/target/classes:$(cat it/target/cp.txt)" io.natgw.it.bench.IgdBenchmark}
 * ({@code -Dnatgw.bench.dir=DIR} picks the disk; default the temp directory).
 */
public final class IgdBenchmark {

    /** Printed first: what these figures do not include, so they are never quoted as the daemon's. */
    static final String LEAVES_OUT = """
            NOT the deployed daemon's figures. Left out: the dataplane (Forwarder.NONE: no relay listener is bound or
            closed per mapping), SSDP discovery, the daemon's launcher, JVM options and console logging (WARN to a
            file), the quotas (lifted), and a network between client and gateway (in-process server, loopback).
            The deployed daemon beside miniupnpd: sudo bench/control-plane.sh
            """;

    private static final int SEQUENTIAL_OPS = 2_000;
    private static final int CONCURRENT_OPS = 4_000;
    private static final int CLIENTS = 16;
    private static final String SERVICE = "urn:schemas-upnp-org:service:WANIPConnection:1";
    private static final InetAddress LAN = InetAddress.getLoopbackAddress();

    /** One run: operation, clients, count, wall time, sorted latencies. */
    record Result(String action, int clients, int ops, long nanos, long[] sorted) {
        double perSecond() {
            return ops / (nanos / 1e9);
        }

        double millisAt(double q) {
            return BenchSupport.millisAt(sorted, q);
        }
    }

    public static void main(String[] args) throws Exception {
        Path root = BenchSupport.workDir("natgw-igd-bench-", "WARN");
        NatgwConfig config = benchConfig(root);
        try (MappingTable table = new MappingTable(config, JournalLeaseStore.open(root.resolve("data"), Clock.systemUTC()),
                Forwarder.NONE, Clock.systemUTC())) {
            IgdServer igd = new IgdServer(config, table,
                    io.natgw.gateway.link.SysfsWanLink.forConfig(config, table::externalAddress, Clock.systemUTC()),
                    io.natgw.core.TrafficStats.NONE).epollHandler(new io.natgw.dataplane.EpollKeepRegistered()); // as the daemon
            table.start();
            igd.start();
            try {
                URI control = controlUrl(igd.descriptionUrl(1, LAN));
                System.out.printf("natgw UPnP benchmark: SOAP over HTTP (new connection per request) -> SoapShortcut -> table -> journal%n");
                System.out.println(LEAVES_OUT);
                System.out.printf("data: %s, %d cores, %s%n%n", root, Runtime.getRuntime().availableProcessors(),
                        System.getProperty("java.vm.name") + " " + Runtime.version());
                run(control, "AddPortMapping", 1, 1_000, 20_000); // JIT warm-up, not reported
                run(control, "DeletePortMapping", 1, 1_000, 20_000);
                System.out.printf("%-18s %7s %6s %9s %8s %8s %8s%n", "action", "clients", "ops", "req/s", "p50 ms", "p99 ms", "max ms");
                print(run(control, "AddPortMapping", 1, SEQUENTIAL_OPS, 30_000));
                print(run(control, "DeletePortMapping", 1, SEQUENTIAL_OPS, 30_000));
                print(run(control, "AddPortMapping", CLIENTS, CONCURRENT_OPS, 40_000));
                print(run(control, "DeletePortMapping", CLIENTS, CONCURRENT_OPS, 40_000));
            } finally {
                igd.close();
            }
        }
    }

    private static void print(Result r) {
        System.out.printf("%-18s %7d %6d %9.0f %8.2f %8.2f %8.2f%n", r.action(), r.clients(), r.ops(), r.perSecond(),
                r.millisAt(0.50), r.millisAt(0.99), BenchSupport.maxMillis(r.sorted()));
    }

    /** {@code ops} requests on ports {@code firstPort…}, split over {@code clients} threads. Fails on any UPnP error. */
    static Result run(URI control, String action, int clients, int ops, int firstPort) throws Exception {
        long[] latencies = new long[ops];
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long t0 = System.nanoTime();
        try {
            List<Future<?>> jobs = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                jobs.add(pool.submit(() -> {
                    for (int i = client; i < ops; i += clients) {
                        int port = firstPort + i;
                        String args = action.equals("AddPortMapping")
                                ? "<NewRemoteHost></NewRemoteHost><NewExternalPort>" + port + "</NewExternalPort><NewProtocol>TCP</NewProtocol>"
                                + "<NewInternalPort>" + port + "</NewInternalPort><NewInternalClient>127.0.0.1</NewInternalClient>"
                                + "<NewEnabled>1</NewEnabled><NewPortMappingDescription>bench</NewPortMappingDescription>"
                                + "<NewLeaseDuration>3600</NewLeaseDuration>"
                                : "<NewRemoteHost></NewRemoteHost><NewExternalPort>" + port + "</NewExternalPort><NewProtocol>TCP</NewProtocol>";
                        long s = System.nanoTime();
                        String reply = soap(control, action, args);
                        latencies[i] = System.nanoTime() - s;
                        if (!reply.startsWith("HTTP/1.1 200")) {
                            throw new IllegalStateException(action + " " + port + " failed: " + reply);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : jobs) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        long elapsed = System.nanoTime() - t0;
        Arrays.sort(latencies);
        return new Result(action, clients, ops, elapsed, latencies);
    }

    private static String soap(URI control, String action, String args) throws IOException {
        byte[] body = ("<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                + "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:" + action + " xmlns:u=\"" + SERVICE
                + "\">" + args + "</u:" + action + "></s:Body></s:Envelope>").getBytes(StandardCharsets.UTF_8);
        String head = "POST " + control.getRawPath() + " HTTP/1.1\r\nHost: " + control.getHost() + ":" + control.getPort()
                + "\r\nContent-Type: text/xml; charset=\"utf-8\"\r\nSOAPAction: \"" + SERVICE + "#" + action
                + "\"\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
        try (Socket s = new Socket()) {
            s.setSoTimeout(10_000);
            s.connect(new InetSocketAddress(control.getHost(), control.getPort()));
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

    private static URI controlUrl(URI description) throws IOException {
        try (Socket s = new Socket(description.getHost(), description.getPort())) {
            s.getOutputStream().write(("GET " + description.getRawPath() + " HTTP/1.1\r\nHost: " + description.getHost() + ":"
                    + description.getPort() + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String text = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            Matcher m = Pattern.compile("<serviceType>" + Pattern.quote(SERVICE) + "</serviceType>.*?<controlURL>([^<]+)</controlURL>")
                    .matcher(text);
            if (!m.find()) {
                throw new IllegalStateException("no WANIPConnection:1 in " + description);
            }
            return description.resolve(m.group(1));
        }
    }

    /** The shipped defaults on loopback, UPnP HTTP on a free port, no SSDP, no dataplane, quotas out of the way. */
    private static NatgwConfig benchConfig(Path root) {
        NatgwConfig d = ConfigLoader.defaults();
        NatgwConfig.Upnp u = d.upnp();
        return new NatgwConfig(d.source(), d.network(), root.resolve("data"), d.pcp(),
                new NatgwConfig.Upnp(true, 0, false, u.v1ZeroLease(), u.maxLease(), u.friendlyName()),
                d.admin(), new NatgwConfig.Limits(d.limits().secureMode(), 1_000_000, 1_000_000),
                List.of(), List.of(), List.of(), d.dataplane());
    }
}
