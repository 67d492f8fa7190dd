package io.natgw.gateway.wan;

import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Follows the WAN address at runtime (network.wan.address {@code auto}, or network.wan.interface set): a long-lived
 * {@code ip -o monitor address} child reports every address added to or deleted from an interface as the kernel
 * announces it over rtnetlink (RTM_NEWADDR / RTM_DELADDR), so a change is seen at once and nothing polls.
 * Why a child process rather than netlink from Java: the JDK has no netlink socket, and no maintained Maven Central
 * library speaks rtnetlink (it would mean JNA plus hand-written message parsing of our own); iproute2 is already
 * required by linux-gateway mode and its one-line output ({@link AddressEvent}) is stable.
 *
 * <p>An event only says "look again": after the interface has been quiet for {@link #QUIET} (a DHCP renewal deletes
 * then adds; a PPPoE reconnect drops the address for a while), at most {@link #MAX_WAIT} after the first event of a
 * burst, the interface's IPv4 addresses are read whole and the address chosen: the current one while the interface
 * still holds it, else its first usable one. Refused (logged once each, never followed): an address inside
 * network.lan.clients, one of natgw's LAN addresses, loopback, link-local. A chosen new address is handed to
 * {@code follow} (the table's SetExternalAddress, which logs the INFO line and tells every listener), at most once per
 * {@link #MIN_CHANGE_INTERVAL}: a flapping address costs one look per quiet period and one change per interval.
 * When the child exits it is started again after a back-off (1 s doubling to 1 min, logged), and the interface is
 * read again since events may have been missed.
 *
 * <p>With a literal network.wan.address and an interface, the literal is where natgw starts; when the interface does
 * not hold it (the address changed while natgw was stopped), the interface's address wins, with a warning.
 *
 * <p>All state lives on one {@link Loop} (a single thread in the daemon, driven by hand in tests with a
 * {@link Clock}).
 */
public final class WanAddressWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WanAddressWatcher.class);

    static final Duration QUIET = Duration.ofSeconds(2);
    static final Duration MAX_WAIT = Duration.ofSeconds(10);
    static final Duration MIN_CHANGE_INTERVAL = Duration.ofSeconds(5);
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofMinutes(1);
    /** A child that ran this long before it died starts again after {@link #FIRST_BACKOFF}. */
    static final Duration STABLE_RUN = Duration.ofMinutes(1);
    static final List<String> COMMAND = List.of("ip", "-o", "monitor", "address");

    /** Where the watcher's work runs, one task at a time. */
    public interface Loop {
        void execute(Runnable task);

        /** Runs {@code task} after {@code delay}; returns what cancels it. */
        Runnable schedule(Runnable task, Duration delay);

        default void shutdown() {
        }
    }

    private final String iface; // "" = every interface but loopback (auto)
    private final boolean auto;
    private final NatgwConfig.Network network;
    private final Supplier<InetAddress> current;
    private final Consumer<InetAddress> follow;
    private final Function<String, List<InetAddress>> addresses;
    private final List<String> command;
    private final Clock clock;
    private final Loop loop;

    // Loop only:
    private boolean closed;
    private boolean seenOnInterface;
    private Instant burstStart;
    private Runnable cancelLook;
    private Instant lastChange;
    private Duration backoff = FIRST_BACKOFF;
    private Instant spawned;
    private Process child;
    private Runnable cancelRestart;
    private final Set<InetAddress> refusedLogged = new HashSet<>();
    private boolean noneLogged;
    private long looks;
    private long starts;

    /**
     * @param addresses the IPv4 addresses an interface holds now, in the kernel's order ("" = every non-loopback
     *                  interface that is up)
     * @param command   the monitor child ({@link #COMMAND} in the daemon)
     */
    WanAddressWatcher(NatgwConfig.Network network, Supplier<InetAddress> current, Consumer<InetAddress> follow,
                      Function<String, List<InetAddress>> addresses, List<String> command, Clock clock, Loop loop) {
        this.network = network;
        this.iface = network.wanInterface();
        this.auto = network.wanAuto();
        this.current = current;
        this.follow = follow;
        this.addresses = addresses;
        this.command = List.copyOf(command);
        this.clock = clock;
        this.loop = loop;
    }

    /** Whether the configuration asks for the WAN address to be followed. */
    public static boolean wanted(NatgwConfig.Network network) {
        return network.wanAuto() || !network.wanInterface().isEmpty();
    }

    /** The daemon's watcher: the real {@code ip monitor}, the JDK's interface list, a thread of its own. */
    public static WanAddressWatcher start(NatgwConfig.Network network, Supplier<InetAddress> current,
                                         Consumer<InetAddress> follow) {
        ScheduledExecutorService ses = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "natgw-wan-watch");
            t.setDaemon(true);
            return t;
        });
        Loop loop = new Loop() {
            @Override
            public void execute(Runnable task) {
                try {
                    ses.execute(task);
                } catch (java.util.concurrent.RejectedExecutionException closed) {
                    // the watcher is closed: its reader's last lines and exit are of no interest
                }
            }

            @Override
            public Runnable schedule(Runnable task, Duration delay) {
                try {
                    ScheduledFuture<?> f = ses.schedule(task, Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
                    return () -> f.cancel(false);
                } catch (java.util.concurrent.RejectedExecutionException closed) {
                    return () -> { };
                }
            }

            @Override
            public void shutdown() {
                ses.shutdownNow();
            }
        };
        // Where setpriv --pdeathsig KILL works, the kernel ends the child when the thread that started it (the
        // loop's) dies, so a kill -9 of natgw leaves no orphan behind (as conntrack -E in port triggering).
        List<String> command = io.natgw.dataplane.ChildProcesses.dyingWithNatgw(COMMAND);
        WanAddressWatcher w = new WanAddressWatcher(network, current, follow, WanAddressWatcher::interfaceAddresses,
                command, Clock.systemUTC(), loop);
        w.start();
        return w;
    }

    /** Starts the monitor child and takes a first look at the interface. */
    void start() {
        loop.execute(() -> {
            LOG.info("following the WAN address on {} (ip monitor address; a change is applied after {} s of quiet)",
                    iface.isEmpty() ? "every interface (network.wan.address: auto)" : "interface " + iface,
                    QUIET.toSeconds());
            look(); // at once: whether the interface holds the configured address now
            spawn();
        });
    }

    /** Loop: one line from the child. */
    void line(String line) {
        if (closed) {
            return;
        }
        Optional<AddressEvent> e = AddressEvent.parse(line);
        if (e.isEmpty()) {
            LOG.debug("ip monitor: {}", line);
            return;
        }
        AddressEvent ev = e.get();
        if (!ev.ipv4() || (!iface.isEmpty() && !ev.iface().equals(iface)) || (iface.isEmpty() && ev.iface().equals("lo"))) {
            return;
        }
        LOG.debug("WAN address event: {} {} on {}", ev.deleted() ? "deleted" : "added", ev.address().getHostAddress(), ev.iface());
        lookSoon();
    }

    /** Loop: (re)arms the debounce: a look after {@link #QUIET} of quiet, at most {@link #MAX_WAIT} after the first. */
    private void lookSoon() {
        Instant now = clock.instant();
        if (burstStart == null) {
            burstStart = now;
        }
        Instant due = min(now.plus(QUIET), burstStart.plus(MAX_WAIT));
        if (lastChange != null) {
            due = max(due, lastChange.plus(MIN_CHANGE_INTERVAL));
        }
        if (cancelLook != null) {
            cancelLook.run();
        }
        cancelLook = loop.schedule(this::look, Duration.between(now, due));
    }

    /** Loop: reads the interface and follows its address when it changed. */
    void look() {
        cancelLook = null;
        burstStart = null;
        if (closed) {
            return;
        }
        looks++;
        InetAddress now = current.get();
        List<InetAddress> held;
        try {
            held = addresses.apply(iface);
        } catch (RuntimeException e) {
            LOG.warn("cannot read the addresses of {}: {}", where(), e.toString());
            return;
        }
        if (held.contains(now)) {
            seenOnInterface = true;
            noneLogged = false;
            return;
        }
        InetAddress chosen = null;
        for (InetAddress a : held) {
            Optional<String> why = refusal(a);
            if (why.isEmpty()) {
                chosen = a;
                break;
            }
            if (refusedLogged.add(a)) {
                LOG.warn("WAN address {} on {} not followed: it is {}", a.getHostAddress(), where(), why.get());
            }
        }
        if (chosen == null) {
            if (!noneLogged) {
                LOG.warn("{} has no usable IPv4 address any more; mappings stay on {} until one appears", where(),
                        now.getHostAddress());
                noneLogged = true;
            }
            return;
        }
        noneLogged = false;
        if (!seenOnInterface && !auto) {
            LOG.warn("network.wan.address {} is not on {}: following its address {} (the interface wins)",
                    now.getHostAddress(), where(), chosen.getHostAddress());
            seenOnInterface = true;
        }
        Instant t = clock.instant();
        if (lastChange != null && t.isBefore(lastChange.plus(MIN_CHANGE_INTERVAL))) {
            lookSoon(); // a flapping address: at most one change per interval
            return;
        }
        lastChange = t;
        LOG.debug("WAN address {} gone from {}; following {}", now.getHostAddress(), where(), chosen.getHostAddress());
        try {
            follow.accept(chosen);
        } catch (RuntimeException e) {
            LOG.error("the new WAN address {} was not applied: {}", chosen.getHostAddress(), e.toString());
        }
    }

    /** Why an address must not become the external address, or empty when it may. */
    Optional<String> refusal(InetAddress a) {
        if (!(a instanceof Inet4Address)) {
            return Optional.of("not IPv4");
        }
        if (a.isLoopbackAddress() || a.isAnyLocalAddress()) {
            return Optional.of("loopback");
        }
        if (a.isLinkLocalAddress()) {
            return Optional.of("link-local");
        }
        if (network.lanAddresses().contains(a)) {
            return Optional.of("one of natgw's LAN addresses (network.lan.addresses)");
        }
        for (Cidr c : network.lanClients()) {
            if (c.contains(a)) {
                return Optional.of("inside network.lan.clients " + c + " (mappings would loop into the LAN)");
            }
        }
        return Optional.empty();
    }

    private String where() {
        return iface.isEmpty() ? "the host's interfaces" : "interface " + iface;
    }

    /** Loop: starts the child and its reader; a look follows, as events may have been missed before it listened. */
    private void spawn() {
        cancelRestart = null;
        if (closed) {
            return;
        }
        starts++;
        spawned = clock.instant();
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            died(null, "could not start: " + e.getMessage());
            return;
        }
        child = p;
        Thread reader = new Thread(() -> read(p), "natgw-wan-monitor");
        reader.setDaemon(true);
        reader.start();
        lookSoon();
    }

    /** Reader thread: hands each line to the loop; at the end, reports the exit. */
    private void read(Process p) {
        try (Reader in = new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)) {
            StringBuilder sb = new StringBuilder();
            boolean tooLong = false;
            int c;
            while ((c = in.read()) >= 0) {
                if (c == '\n') {
                    if (!tooLong) {
                        String l = sb.toString();
                        loop.execute(() -> line(l));
                    }
                    sb.setLength(0);
                    tooLong = false;
                } else if (sb.length() < AddressEvent.MAX_LINE) {
                    sb.append((char) c);
                } else {
                    tooLong = true; // not an address line: dropped whole, the buffer stays bounded
                }
            }
        } catch (IOException e) {
            LOG.debug("ip monitor output: {}", e.toString());
        }
        int status;
        try {
            status = p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        loop.execute(() -> died(p, "exited with status " + status));
    }

    /** Loop: the child is gone (or never started): start it again after the back-off. */
    private void died(Process p, String why) {
        if (closed || (p != null && p != child)) {
            return;
        }
        child = null;
        Instant now = clock.instant();
        if (spawned != null && !now.isBefore(spawned.plus(STABLE_RUN))) {
            backoff = FIRST_BACKOFF;
        }
        LOG.warn("the WAN address watcher ({}) {}; starting it again in {} s", String.join(" ", command), why,
                backoff.toSeconds());
        cancelRestart = loop.schedule(this::spawn, backoff);
        backoff = min(backoff.multipliedBy(2), MAX_BACKOFF);
    }

    /** For tests: how many times the child was started, and the interface read. */
    record Counts(long starts, long looks) {
    }

    Counts counts() {
        return new Counts(starts, looks);
    }

    /** The child being run now (tests stop it to see the restart), or null. */
    Process child() {
        return child;
    }

    /** Stops the child by its own handle and cancels what is scheduled. */
    @Override
    public void close() {
        loop.execute(() -> {
            closed = true;
            if (cancelLook != null) {
                cancelLook.run();
            }
            if (cancelRestart != null) {
                cancelRestart.run();
            }
            if (child != null) {
                child.destroy();
            }
            loop.shutdown();
        });
    }

    /** The IPv4 addresses an interface holds now ("" = every non-loopback interface that is up), in order. */
    static List<InetAddress> interfaceAddresses(String name) {
        List<InetAddress> out = new ArrayList<>();
        try {
            List<NetworkInterface> nifs = name.isEmpty() ? Collections.list(NetworkInterface.getNetworkInterfaces())
                    : java.util.Optional.ofNullable(NetworkInterface.getByName(name)).map(List::of).orElse(List.of());
            for (NetworkInterface nif : nifs) {
                if (!nif.isUp() || (name.isEmpty() && nif.isLoopback())) {
                    continue;
                }
                for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                    if (a instanceof Inet4Address) {
                        out.add(a);
                    }
                }
            }
        } catch (SocketException e) {
            throw new IllegalStateException("cannot list network interfaces: " + e.getMessage(), e);
        }
        return out;
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
