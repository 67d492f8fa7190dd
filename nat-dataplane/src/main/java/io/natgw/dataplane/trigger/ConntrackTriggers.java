package io.natgw.dataplane.trigger;

import io.natgw.conf.Protocol;
import io.natgw.dataplane.TriggerEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kernel forwarding's port triggering: learns of LAN hosts' new flows to trigger ports from conntrack events. The
 * nftables table marks those flows ({@code ct mark} {@code TRIGGER}) where it SNATs them to the WAN address, and one
 * long-lived {@code conntrack -E -e NEW --mark TRIGGER/TRIGGER} process reports each new one; the engine opens the
 * rule's incoming ports. Until they are open, new WAN flows to them are dropped (not refused), so a server that
 * connects back at once (IRC's IDENT lookup) retransmits its SYN and finds the port open.
 */
public final class ConntrackTriggers implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ConntrackTriggers.class);
    /** The original direction's tuple: the first src/dst/sport/dport of the event line. */
    private static final Pattern EVENT = Pattern.compile(
            "\\[NEW]\\s+(tcp|udp)\\s+\\d+\\s+(?:\\d+\\s+)?(?:\\S+\\s+)?src=(\\S+) dst=(\\S+) sport=(\\d+) dport=(\\d+)");

    private final TriggerEngine engine;
    private final java.util.function.Predicate<InetAddress> lanClient;
    private final long mark;
    private Process process;
    private Thread reader;

    /** @param lanClient which sources may trigger (network.lan.clients) */
    public ConntrackTriggers(TriggerEngine engine, java.util.function.Predicate<InetAddress> lanClient, long mark) {
        this.engine = engine;
        this.lanClient = lanClient;
        this.mark = mark;
    }

    /**
     * Starts {@code conntrack -E} from a thread of its own that reads it for as long as it runs: where
     * {@code setpriv --pdeathsig KILL} works ({@link io.natgw.dataplane.ChildProcesses}) the kernel ends conntrack
     * when that thread, i.e. natgw, dies, so a {@code kill -9} leaves no orphan behind.
     */
    public synchronized void start() {
        String m = "0x" + Long.toHexString(mark);
        List<String> cmd = io.natgw.dataplane.ChildProcesses.dyingWithNatgw(
                List.of("conntrack", "-E", "-e", "NEW", "--mark", m + "/" + m));
        CompletableFuture<Process> started = new CompletableFuture<>();
        reader = new Thread(() -> {
            Process p;
            try {
                p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            } catch (IOException | RuntimeException e) {
                started.completeExceptionally(e);
                return;
            }
            started.complete(p);
            read(p);
        }, "natgw-trigger-conntrack");
        reader.setDaemon(true);
        reader.start();
        try {
            process = started.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot run conntrack -E (Debian package conntrack): " + e.getCause().getMessage(),
                    e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new IllegalStateException("conntrack -E did not start: " + e, e);
        }
        log.info("port triggering learns trigger flows from conntrack events (pid {})", process.pid());
    }

    private void read(Process p) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII))) {
            for (String line; (line = in.readLine()) != null; ) {
                onLine(line);
            }
        } catch (IOException e) {
            log.debug("conntrack events: {}", e.toString());
        }
        synchronized (this) {
            if (process == p) {
                log.warn("conntrack -E ended (exit {}): port triggering does not see new trigger flows",
                        p.isAlive() ? "-" : Integer.toString(p.exitValue()));
            }
        }
    }

    /**
     * Reads conntrack's events only while a rule is enabled: {@code conntrack -E} gets every new connection's event
     * from the kernel and filters the marks itself, which costs a listener wake-up per new flow through the gateway
     * (about 15 % of bare DNAT's new connections/s on 2 cores, `nat-dataplane/README.md`). Without an enabled rule
     * no process runs; the first enabled rule (start, reload, admin API) starts it and the last one leaving stops it.
     *
     * @throws IllegalStateException if it has to start and cannot
     */
    public synchronized void follow(List<io.natgw.conf.TriggerRule> rules) {
        boolean wanted = rules.stream().anyMatch(io.natgw.conf.TriggerRule::enabled);
        if (wanted && process == null) {
            start();
        } else if (!wanted && process != null) {
            close();
            log.info("port triggering: no rule enabled, conntrack events are not read");
        }
    }

    /** Whether {@code conntrack -E} runs now. */
    public synchronized boolean running() {
        return process != null;
    }

    /** One event line; anything else (conntrack's banner, a malformed line) is ignored. */
    void onLine(String line) {
        Event e = parse(line);
        if (e == null || !lanClient.test(e.lanHost())) {
            if (!line.isBlank()) {
                log.debug("conntrack: {}", line);
            }
            return;
        }
        log.debug("trigger flow {} {} -> port {}", e.protocol().label(), e.lanHost().getHostAddress(), e.port());
        engine.outbound(e.protocol(), e.lanHost(), e.port()).whenComplete((r, x) -> {
            if (x != null) {
                log.warn("trigger for {} {} from {} failed: {}", e.protocol().label(), e.port(),
                        e.lanHost().getHostAddress(), x.toString());
            }
        });
    }

    record Event(Protocol protocol, InetAddress lanHost, int port) {
    }

    static Event parse(String line) {
        Matcher m = EVENT.matcher(line);
        if (!m.find()) {
            return null;
        }
        try {
            Protocol p = m.group(1).equals("tcp") ? Protocol.TCP : Protocol.UDP;
            String src = m.group(2);
            if (!src.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
                return null;
            }
            int port = Integer.parseInt(m.group(5));
            return port < 1 || port > 65535 ? null : new Event(p, InetAddress.getByName(src), port);
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    @Override
    public synchronized void close() {
        Process p = process;
        process = null;
        if (p != null) {
            p.destroy();
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

}
