package io.natgw.it.dataplane;

import io.natgw.it.support.Daemon;
import io.natgw.it.support.Require;
import io.natgw.testsupport.Command;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The three namespaces of the gateway tests, named uniquely per run and always removed by {@link #close()}:
 * <pre>
 *   lan  lan0 192.168.77.10 + .11, default via .1    fd00:77::10 + ::11, default via fd00:77::1
 *   gw   gwlan 192.168.77.1 | gwwan 203.0.113.1      fd00:77::1 | 2001:db8:113::1, forwarding on (both families)
 *   wan  wan0 203.0.113.2                            2001:db8:113::2, fd00:77::/64 via 2001:db8:113::1
 * </pre>
 * IPv4: the WAN has no route to the LAN, only the gateway's address is reachable (a NAT). IPv6: no translation,
 * the WAN routes the LAN prefix through the gateway, and only the gateway's firewall (natgw's pinholes) stands
 * between them. Duplicate address detection is off in the three namespaces, so every address, link-local ones
 * included, can be bound as soon as the constructor returns. Processes started here are stopped by their PID
 * on close.
 */
public final class Topology implements AutoCloseable {

    public static final String LAN_A = "192.168.77.10";
    public static final String LAN_B = "192.168.77.11";
    public static final String GW_LAN = "192.168.77.1";
    public static final String GW_WAN = "203.0.113.1";
    public static final String WAN_HOST = "203.0.113.2";
    public static final String LAN_A6 = "fd00:77::10";
    public static final String LAN_B6 = "fd00:77::11";
    public static final String GW_LAN6 = "fd00:77::1";
    public static final String GW_WAN6 = "2001:db8:113::1";
    public static final String WAN_HOST6 = "2001:db8:113::2";
    public static final String LAN_PREFIX6 = "fd00:77::/64";
    private static final AtomicInteger RUNS = new AtomicInteger();

    public final String lan;
    public final String gw;
    public final String wan;
    public final Path work;
    private final List<Process> processes = new ArrayList<>();

    public record Result(int exit, String output) {
    }

    public Topology() throws IOException {
        String id = "ngw" + ProcessHandle.current().pid() + "x" + RUNS.incrementAndGet();
        lan = id + "-lan";
        gw = id + "-gw";
        wan = id + "-wan";
        work = Files.createTempDirectory("natgw-dp-e2e-");
        try {
            for (String ns : List.of(lan, gw, wan)) {
                sh("ip", "netns", "add", ns);
                sh("ip", "-n", ns, "link", "set", "lo", "up");
                for (String conf : List.of("all", "default")) {
                    sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf." + conf + ".disable_ipv6=0",
                            "net.ipv6.conf." + conf + ".accept_dad=0");
                }
            }
            sh("ip", "-n", lan, "link", "add", "lan0", "type", "veth", "peer", "name", "gwlan", "netns", gw);
            sh("ip", "-n", wan, "link", "add", "wan0", "type", "veth", "peer", "name", "gwwan", "netns", gw);
            sh("ip", "-n", lan, "addr", "add", LAN_A + "/24", "dev", "lan0");
            sh("ip", "-n", lan, "addr", "add", LAN_B + "/24", "dev", "lan0");
            sh("ip", "-n", gw, "addr", "add", GW_LAN + "/24", "dev", "gwlan");
            sh("ip", "-n", gw, "addr", "add", GW_WAN + "/24", "dev", "gwwan");
            sh("ip", "-n", wan, "addr", "add", WAN_HOST + "/24", "dev", "wan0");
            sh("ip", "-n", lan, "addr", "add", LAN_A6 + "/64", "dev", "lan0", "nodad");
            sh("ip", "-n", lan, "addr", "add", LAN_B6 + "/64", "dev", "lan0", "nodad");
            sh("ip", "-n", gw, "addr", "add", GW_LAN6 + "/64", "dev", "gwlan", "nodad");
            sh("ip", "-n", gw, "addr", "add", GW_WAN6 + "/64", "dev", "gwwan", "nodad");
            sh("ip", "-n", wan, "addr", "add", WAN_HOST6 + "/64", "dev", "wan0", "nodad");
            for (String[] l : new String[][] {{lan, "lan0"}, {gw, "gwlan"}, {gw, "gwwan"}, {wan, "wan0"}}) {
                sh("ip", "-n", l[0], "link", "set", l[1], "up");
            }
            sh("ip", "-n", lan, "route", "add", "default", "via", GW_LAN);
            // the kernel gives each link its fe80:: address a moment after it comes up (addrconf's work queue, slower
            // on a busy machine): wait for them, so a daemon started next finds them (it listens on them at start)
            for (String[] l : new String[][] {{lan, "lan0"}, {gw, "gwlan"}, {gw, "gwwan"}, {wan, "wan0"}}) {
                await("a link-local address on " + l[1]).atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
                        .until(() -> run(null, "ip", "-n", l[0], "-6", "addr", "show", "dev", l[1], "scope", "link")
                                .output().contains("fe80::"));
            }
            sh("ip", "-n", lan, "-6", "route", "add", "default", "via", GW_LAN6);
            sh("ip", "-n", wan, "-6", "route", "add", LAN_PREFIX6, "via", GW_WAN6);
            sh("ip", "netns", "exec", gw, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * A namespace test's set-up: root and namespaces, each tool in {@code tools} (counted as a skip, or a failure
     * under NATGW_REQUIRE_ALL=1, when missing), natgw.jar, then a fresh topology.
     */
    public static Topology forDaemon(String... tools) throws IOException {
        Require.netns();
        for (String t : tools) {
            Require.tool(t);
        }
        Require.daemonJar();
        return new Topology();
    }

    /** A test's tear-down: the daemon if one was started, then the namespaces; either may be null. */
    public static void close(Daemon daemon, Topology net) {
        if (daemon != null) {
            daemon.close();
        }
        if (net != null) {
            net.close();
        }
    }

    /**
     * natgw in the gw namespace, serving the LAN side (gwlan 192.168.77.1, clients 192.168.77.0/24) with the WAN
     * address 203.0.113.1, its files under this run's work directory; each test sets the rest (mode, front-ends).
     */
    public Daemon.Builder gatewayDaemon() {
        return gatewayDaemon("ip", "netns", "exec", gw);
    }

    /** {@link #gatewayDaemon()} run under {@code prefix}, a command that enters the gw namespace. */
    public Daemon.Builder gatewayDaemon(String... prefix) {
        return Daemon.builder().prefix(prefix).workDir(work.resolve("daemon"))
                .set("network.lan.addresses", List.of(GW_LAN))
                .set("network.lan.clients", List.of("192.168.77.0/24"))
                .set("network.lan.interfaces", List.of("gwlan"))
                .set("network.wan.address", GW_WAN);
    }

    /** {@link #gatewayDaemon()} serving the LAN over IPv6 too (gwlan fd00:77::1, clients fd00:77::/64). */
    public Daemon.Builder gatewayDaemon6() {
        return gatewayDaemon()
                .set("network.lan.addresses", List.of(GW_LAN, GW_LAN6))
                .set("network.lan.clients", List.of("192.168.77.0/24", LAN_PREFIX6));
    }

    /** The daemon's /metrics, read with its admin token from inside the gw namespace (the admin API on 127.0.0.1:8443). */
    public String metrics(Daemon daemon) throws IOException {
        String token = Files.readString(daemon.dataDir().resolve("admin.token")).trim();
        Result metrics = exec(gw, "curl", "-sk", "-H", "Authorization: Bearer " + token, "https://127.0.0.1:8443/metrics");
        assertEquals(0, metrics.exit(), metrics.output());
        return metrics.output();
    }

    /** The value of sample {@code name} in a Prometheus text exposition; the test fails when it is absent. */
    public static double metric(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)").matcher(metrics);
        assertTrue(m.find(), name + " in:\n" + metrics);
        return Double.parseDouble(m.group(1));
    }

    /** The router's ordinary NAT for other traffic (a test table of its own, not natgw's). */
    public void masquerade() {
        Result r = run("table ip natgwtest {\n  chain post {\n    type nat hook postrouting priority srcnat; policy accept;\n"
                + "    oifname \"gwwan\" masquerade\n  }\n}\n", "ip", "netns", "exec", gw, "nft", "-f", "-");
        if (r.exit() != 0) {
            throw new IllegalStateException(r.output());
        }
    }

    /** Runs a command to completion (10 s at most), failing on a non-zero exit. */
    public static void sh(String... cmd) {
        Result r = run(null, cmd);
        if (r.exit() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + r.output());
        }
    }

    /**
     * Runs a command to completion (15 s at most; exit -1 and what it printed when it does not finish), its output
     * read while it runs (test-support's {@link Command}), so a chatty command never blocks on a full pipe.
     */
    public static Result run(String stdin, String... cmd) {
        List<String> command = List.of(cmd);
        if (stdin != null) {
            Path in;
            try {
                in = Files.createTempFile("natgw-stdin", ".txt");
                Files.writeString(in, stdin);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            try {
                List<String> withInput = new ArrayList<>(List.of("sh", "-c", "exec \"$@\" < \"$0\"", in.toString()));
                withInput.addAll(command);
                return run(withInput);
            } finally {
                in.toFile().delete();
            }
        }
        return run(command);
    }

    private static Result run(List<String> command) {
        try {
            Command.Result r = Command.run(Duration.ofSeconds(15), null, true, command);
            return new Result(r.exit(), r.output().trim());
        } catch (AssertionError timedOut) {
            return new Result(-1, String.join(" ", command) + " timed out: " + timedOut.getMessage());
        }
    }

    /**
     * {@code natpmpc -g GW_LAN -a PUBLIC PRIVATE PROTO LIFETIME} from the LAN host; fails the test unless natpmpc reports
     * the mapping (or, lifetime 0, its deletion). Through {@link io.natgw.it.pcp.Natpmpc#map}, which asks again when
     * natpmpc took a late duplicate of its address answer for the mapping answer (a client quirk on a busy machine:
     * it then exits 0 before the gateway has even seen the mapping request).
     */
    public void natpmp(String... args) {
        if (args.length != 5 || !args[0].equals("-a")) {
            throw new IllegalArgumentException("natpmp(-a PUBLIC PRIVATE PROTO LIFETIME), not " + List.of(args));
        }
        try {
            new io.natgw.it.pcp.Natpmpc(List.of("ip", "netns", "exec", lan), java.net.InetAddress.getByName(GW_LAN))
                    .map(Integer.parseInt(args[1]), Integer.parseInt(args[2]), args[3], Long.parseLong(args[4]));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    public Result exec(String ns, String... cmd) {
        List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        all.addAll(List.of(cmd));
        return run(null, all.toArray(String[]::new));
    }

    /** Runs {@link Peers} in a namespace and returns its first output line. */
    public String peer(String ns, String... args) {
        Result r = exec(ns, peersCommand(args));
        return r.output().lines().findFirst().orElse("");
    }

    /** Starts a {@link Peers} server in a namespace and waits for it to listen. */
    public Path server(String ns, String name, String... args) {
        Path log = work.resolve(name + ".log");
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        cmd.addAll(List.of(peersCommand(args)));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            processes.add(p);
            await(name + " to listen").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                    .until(() -> {
                        if (!p.isAlive()) {
                            throw new IllegalStateException(name + " exited: " + Files.readString(log));
                        }
                        return Files.readString(log).contains("ready");
                    });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return log;
    }

    private static String[] peersCommand(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx64m", "-cp", classes(), Peers.class.getName()));
        cmd.addAll(List.of(args));
        return cmd.toArray(String[]::new);
    }

    private static String classes() {
        try {
            return Path.of(Peers.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (String ns : List.of(lan, gw, wan)) {
            run(null, "ip", "netns", "del", ns);
        }
    }
}
