package io.natgw.it.dataplane;

import io.natgw.conf.ConfigLoader;
import io.natgw.conf.NatgwConfig;
import io.natgw.conf.Protocol;
import io.natgw.core.Change;
import io.natgw.core.Endpoint;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.Origin;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;
import io.natgw.core.TrafficStats;
import io.natgw.dataplane.kernel.KernelForwarder;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link KernelForwarder} alone, driven line by line on stdin as the table's writer drives it, run as root in the
 * gateway's namespace by {@link KernelPinholeTest} ({@code java -cp TEST_CLASSES:natgw.jar KernelHost CONFIG.yaml}).
 * Each command is answered with one line starting with {@code "> "} (logs may come between):
 * <ul>
 *   <li>{@code restore SPEC...} — the restored rows of a start ({@code prepare} each, one {@code committed}), then
 *       {@code tableStarted}: the table installed, or a stale one reconciled.</li>
 *   <li>{@code add SPEC} / {@code del SPEC} / {@code expire SPEC} — one change as the writer applies it:
 *       {@code prepare}, {@code flush} (the nftables transaction), {@code committed}.</li>
 *   <li>{@code counters SPEC} — {@code > rx PACKETS BYTES tx PACKETS BYTES} of that row; {@code totals} the
 *       same for the totals.</li>
 *   <li>{@code pending} — how many removed rows' counters wait for the retirement pass.</li>
 *   <li>{@code via} — {@code > netlink N libnftables M reads R listings L}: the element transactions each path ran
 *       since start, and how removed elements' counters were read (by key over netlink, or by listing the sets).</li>
 *   <li>{@code watch} / {@code commands} — from now on, record the scripts the writer's nftables context runs;
 *       {@code > COUNT SCRIPT ;; SCRIPT...} (newlines as {@code |}).</li>
 *   <li>{@code quit} — a clean stop ({@code close}: the table removed).</li>
 * </ul>
 * Optional arguments after CONFIG: the bound of pending retirements and the retirement period in ms.
 * SPEC is {@code ID/PROTO/HOST/PORT} or {@code ID/PROTO/HOST/PORT/REMOTE/PREFIX/REMOTEPORT}: a pinhole (IPv6 HOST,
 * pinhole id ID) or, with ID 0, a NAT mapping of that port to an IPv4 HOST.
 */
public final class KernelHost {

    private KernelHost() {
    }

    public static void main(String[] args) throws Exception {
        NatgwConfig config = ConfigLoader.load(Path.of(args[0]));
        int pendingLimit = args.length > 1 ? Integer.parseInt(args[1]) : KernelForwarder.PENDING_LIMIT;
        java.time.Duration period = args.length > 2 ? java.time.Duration.ofMillis(Long.parseLong(args[2]))
                : KernelForwarder.RETIREMENT_PERIOD;
        KernelForwarder k = new KernelForwarder(config, config.network().wanAddress(), List::of, m -> { }, pendingLimit,
                period);
        List<String> commands = java.util.Collections.synchronizedList(new ArrayList<>());
        try {
            k.start();
        } catch (IllegalStateException e) {
            System.out.println("> error " + e.getMessage());
            System.exit(1);
        }
        System.out.println("> ready");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] w = line.trim().split(" ");
            try {
                switch (w[0]) {
                    case "restore" -> {
                        List<Change> restored = new ArrayList<>();
                        for (int i = 1; i < w.length; i++) {
                            Change c = Change.added(row(w[i]), Change.Cause.RESTORED);
                            k.prepare(c);
                            restored.add(c);
                        }
                        k.committed(restored);
                        k.tableStarted();
                        System.out.println("> ok");
                    }
                    case "add", "del", "expire" -> {
                        Mapping m = row(w[1]);
                        Change c = switch (w[0]) {
                            case "add" -> Change.added(m, Change.Cause.REQUEST);
                            case "del" -> Change.removed(m, Change.Cause.REQUEST);
                            default -> Change.removed(m, Change.Cause.EXPIRED);
                        };
                        k.prepare(c);
                        k.flush();
                        k.committed(List.of(c));
                        System.out.println("> ok");
                    }
                    case "counters" -> System.out.println("> " + text(k.of(row(w[1]).key())));
                    case "totals" -> System.out.println("> " + text(k.totals()));
                    case "pending" -> System.out.println("> " + k.pendingRetirements());
                    case "via" -> {
                        long[] t = k.transactions();
                        long[] r = k.counterReads();
                        System.out.println("> netlink " + t[0] + " libnftables " + t[1] + " reads " + r[0] + " listings " + r[1]);
                    }
                    case "watch" -> {
                        commands.clear();
                        k.observeCommands(commands::add);
                        System.out.println("> ok");
                    }
                    case "commands" -> {
                        synchronized (commands) {
                            System.out.println("> " + commands.size() + " " + String.join(" ;; ", commands).replace('\n', '|'));
                        }
                    }
                    case "quit" -> {
                        k.close();
                        System.out.println("> ok");
                        return;
                    }
                    default -> System.out.println("> error unknown command " + w[0]);
                }
            } catch (Exception e) {
                System.out.println("> error " + e.getMessage());
            }
            System.out.flush();
        }
    }

    static String text(TrafficStats.Counters c) {
        return "rx " + c.packetsReceived() + " " + c.bytesReceived() + " tx " + c.packetsSent() + " " + c.bytesSent();
    }

    /** The row a SPEC names: the same SPEC is the same row (owner, creation time), so a delete finds it. */
    static Mapping row(String spec) throws Exception {
        String[] f = spec.split("/");
        int id = Integer.parseInt(f[0]);
        Protocol protocol = Protocol.valueOf(f[1].toUpperCase(java.util.Locale.ROOT));
        InetAddress host = InetAddress.getByName(f[2]);
        int port = Integer.parseInt(f[3]);
        RemoteFilter remote = f.length > 4
                ? new RemoteFilter(InetAddress.getByName(f[4]), Integer.parseInt(f[5]), Integer.parseInt(f[6]))
                : RemoteFilter.ANY;
        Instant created = Instant.parse("2026-12-06T00:00:00Z").plusSeconds(id);
        return new Mapping(protocol, port, remote, new Endpoint(host, port), Owner.of(host, Origin.PCP), "",
                Kind.DYNAMIC, "kernel host", created, created.plusSeconds(86_400 * 365), true, id);
    }
}
