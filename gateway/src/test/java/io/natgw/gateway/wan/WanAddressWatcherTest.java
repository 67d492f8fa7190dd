package io.natgw.gateway.wan;

import ch.qos.logback.classic.Level;
import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import io.natgw.core.TestClock;
import io.natgw.testsupport.LogCapture;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The WAN address watcher without a network: iproute2's monitor lines parsed, the debounce and the flap bound
 * driven by a hand-advanced {@link TestClock} (no sleeps), refusals, and the monitor child's restart with back-off
 * (a real child process that exits).
 */
class WanAddressWatcherTest {

    static final InetAddress OLD = ip("203.0.113.1");
    static final InetAddress NEW = ip("203.0.113.5");
    static final NatgwConfig.Network NETWORK = new NatgwConfig.Network(List.of(ip("192.168.77.1")),
            List.of(Cidr.parse("192.168.77.0/24")), List.of("gwlan"), OLD, false, "gwwan");

    /** Captured from iproute2 6.1 ({@code ip -o monitor address}) while adding and deleting on a veth. */
    static final String ADDED = "3: gwwan    inet 203.0.113.5/24 scope global gwwan\\       valid_lft forever preferred_lft forever";
    static final String DELETED = "Deleted 3: gwwan    inet 203.0.113.1/24 scope global gwwan\\       valid_lft forever preferred_lft forever";
    static final String SECONDARY = "3: gwwan    inet 203.0.113.6/24 scope global secondary gwwan\\       valid_lft forever preferred_lft forever";
    static final String V6 = "3: gwwan    inet6 2001:db8:113::1/64 scope global nodad \\       valid_lft forever preferred_lft forever";
    static final String OTHER_IF = "2: gwlan    inet 192.168.77.9/24 scope global gwlan\\       valid_lft forever preferred_lft forever";

    @Test
    void monitorLinesAreParsedAndAnythingElseIsNot() {
        assertEquals(new AddressEvent(false, "gwwan", NEW, 24), AddressEvent.parse(ADDED).orElseThrow());
        assertEquals(new AddressEvent(true, "gwwan", OLD, 24), AddressEvent.parse(DELETED).orElseThrow());
        assertEquals(new AddressEvent(false, "gwwan", ip("203.0.113.6"), 24), AddressEvent.parse(SECONDARY).orElseThrow());
        assertEquals(new AddressEvent(false, "gwwan", ip("2001:db8:113::1"), 64), AddressEvent.parse(V6).orElseThrow());
        for (String junk : new String[] {"", "Deleted", "3: gwwan    inet hostname.example/24 scope global",
                "3: gwwan    inet 203.0.113.5/33 scope global", "3: gwwan    inet6 203.0.113.5/24 scope global",
                "3: gwwan    inet 2001:db8::1/24 scope global", "4: eth0: <BROADCAST,MULTICAST,UP> mtu 1500",
                "Cannot open netlink socket: Operation not permitted", "3: gwwan    inet 203.0.113.5/24" + "x".repeat(2000)}) {
            assertTrue(AddressEvent.parse(junk).isEmpty(), junk);
        }
    }

    /** The watcher, its clock, a hand-driven loop, and what the interface holds. */
    static final class Fixture {
        final TestClock clock = new TestClock(Instant.parse("2026-12-06T22:00:00Z"));
        final ManualLoop loop = new ManualLoop(clock);
        final AtomicReference<InetAddress> current = new AtomicReference<>(OLD);
        final List<InetAddress> followed = new CopyOnWriteArrayList<>();
        volatile List<InetAddress> held = List.of(OLD);
        final WanAddressWatcher watcher;

        Fixture(NatgwConfig.Network network, List<String> command) {
            watcher = new WanAddressWatcher(network, current::get, a -> {
                followed.add(a);
                current.set(a);
            }, name -> held, command, clock, loop);
        }

        Fixture() {
            this(NETWORK, List.of("true")); // a monitor that prints nothing and exits: not used by these tests' events
        }
    }

    /** Runs tasks at once, and scheduled ones when the clock is advanced past their time. */
    static final class ManualLoop implements WanAddressWatcher.Loop {
        record Timed(Instant at, long seq, Runnable task, boolean[] cancelled) {
        }

        final TestClock clock;
        final List<Timed> timed = new ArrayList<>();
        long seq;

        ManualLoop(TestClock clock) {
            this.clock = clock;
        }

        @Override
        public synchronized void execute(Runnable task) {
            task.run();
        }

        @Override
        public synchronized Runnable schedule(Runnable task, Duration delay) {
            boolean[] cancelled = {false};
            timed.add(new Timed(clock.instant().plus(delay), seq++, task, cancelled));
            return () -> cancelled[0] = true;
        }

        /** Advances the clock, running every task that falls due, in time order. */
        synchronized void advance(Duration d) {
            Instant end = clock.instant().plus(d);
            while (true) {
                Timed next = timed.stream().filter(t -> !t.cancelled()[0] && !t.at().isAfter(end))
                        .min(Comparator.comparing(Timed::at).thenComparing(Timed::seq)).orElse(null);
                if (next == null) {
                    break;
                }
                timed.remove(next);
                if (next.at().isAfter(clock.instant())) {
                    clock.advance(Duration.between(clock.instant(), next.at()));
                }
                next.task().run();
            }
            clock.advance(Duration.between(clock.instant(), end));
            timed.removeIf(t -> t.cancelled()[0]);
        }

        synchronized long pending() {
            return timed.stream().filter(t -> !t.cancelled()[0]).count();
        }
    }

    /** A watcher started, with its first look done (the interface held the configured address: followed from now). */
    static Fixture started() {
        Fixture f = new Fixture(NETWORK, List.of("sh", "-c", "exec sleep 600"));
        f.watcher.start();
        f.loop.advance(WanAddressWatcher.QUIET);
        return f;
    }

    @Test
    void aDeleteThenAddIsOneChangeAfterTheQuietPeriod() {
        Fixture f = started();
        try {
            long looks = f.watcher.counts().looks();
            f.held = List.of();
            f.watcher.line(DELETED);
            f.loop.advance(Duration.ofMillis(1500));
            f.held = List.of(NEW);
            f.watcher.line(ADDED);
            f.loop.advance(Duration.ofMillis(1999));
            assertEquals(List.of(), f.followed, "nothing before 2 s of quiet");
            f.loop.advance(Duration.ofMillis(1));
            assertEquals(List.of(NEW), f.followed);
            assertEquals(looks + 1, f.watcher.counts().looks(), "the delete and the add: one look");
        } finally {
            f.watcher.close();
        }
    }

    @Test
    void eventsOfOtherInterfacesIPv6AndUnchangedAddressesChangeNothing() {
        Fixture f = started();
        try {
            long looks = f.watcher.counts().looks();
            f.watcher.line(OTHER_IF);
            f.watcher.line(V6);
            f.watcher.line("garbage");
            f.loop.advance(Duration.ofSeconds(30));
            assertEquals(looks, f.watcher.counts().looks(), "no look for events that are not the WAN interface's IPv4");
            f.held = List.of(ip("203.0.113.6"), OLD);
            f.watcher.line(SECONDARY);
            f.loop.advance(Duration.ofSeconds(30));
            assertEquals(looks + 1, f.watcher.counts().looks());
            assertEquals(List.of(), f.followed, "the current address is still held: kept");
        } finally {
            f.watcher.close();
        }
    }

    @Test
    void aFlappingAddressCostsOneLookPerQuietPeriodAndOneChangePerInterval() {
        Fixture f = started();
        try {
            long looks = f.watcher.counts().looks();
            // 1000 events 10 ms apart (10 s of flapping between two addresses): the debounce holds the look back
            for (int i = 0; i < 1000; i++) {
                f.held = List.of(i % 2 == 0 ? NEW : OLD);
                f.watcher.line(i % 2 == 0 ? ADDED : DELETED);
                f.loop.advance(Duration.ofMillis(10));
            }
            assertTrue(f.watcher.counts().looks() - looks <= 2, "looks: " + (f.watcher.counts().looks() - looks));
            // then one flap every 2.5 s for a minute: each look sees a change, but changes are 5 s apart at least
            for (int i = 0; i < 24; i++) {
                f.held = List.of(f.current.get().equals(OLD) ? NEW : OLD);
                f.watcher.line(ADDED);
                f.loop.advance(Duration.ofMillis(2500));
            }
            f.loop.advance(Duration.ofSeconds(10));
            assertTrue(f.followed.size() <= 1 + 70 / 5, "changes: " + f.followed.size());
            assertTrue(f.followed.size() >= 5, "the address is still followed: " + f.followed.size());
            assertEquals(f.held.get(0), f.current.get(), "it settles on what the interface holds");
            assertTrue(f.loop.pending() <= 1, "bounded timers: " + f.loop.pending());
        } finally {
            f.watcher.close();
        }
    }

    @Test
    void lanAddressesLanClientsLoopbackAndLinkLocalAreRefusedAndLoggedOnce() {
        Fixture f = started();
        try (LogCapture log = new LogCapture(WanAddressWatcher.class)) {
            for (int i = 0; i < 3; i++) {
                f.held = List.of(ip("192.168.77.1"), ip("192.168.77.50"), ip("127.0.0.5"), ip("169.254.1.1"));
                f.watcher.line(DELETED);
                f.loop.advance(Duration.ofSeconds(10));
            }
            assertEquals(List.of(), f.followed, "none of them becomes the external address");
            assertEquals(OLD, f.current.get());
            List<String> warnings = log.lines(Level.WARN);
            assertEquals(1, warnings.stream().filter(l -> l.contains("192.168.77.1 on interface gwwan not followed: it is one of "
                    + "natgw's LAN addresses")).count(), warnings.toString());
            assertEquals(1, warnings.stream().filter(l -> l.contains("192.168.77.50 on interface gwwan not followed: it is inside "
                    + "network.lan.clients 192.168.77.0/24")).count(), warnings.toString());
            assertEquals(1, warnings.stream().filter(l -> l.contains("127.0.0.5") && l.contains("loopback")).count(), warnings.toString());
            assertEquals(1, warnings.stream().filter(l -> l.contains("169.254.1.1") && l.contains("link-local")).count(), warnings.toString());
            assertEquals(1, warnings.stream().filter(l -> l.contains("has no usable IPv4 address any more; mappings stay on "
                    + "203.0.113.1")).count(), warnings.toString());

            f.held = List.of(ip("192.168.77.50"), NEW);
            f.watcher.line(ADDED);
            f.loop.advance(Duration.ofSeconds(10));
            assertEquals(List.of(NEW), f.followed, "the first usable address is taken");
        } finally {
            f.watcher.close();
        }
    }

    @Test
    void aLiteralAddressNotOnTheInterfaceAtStartGivesWayToTheInterfacesWithAWarning() {
        Fixture f = new Fixture(NETWORK, List.of("sh", "-c", "exec sleep 600"));
        f.held = List.of(NEW); // the configured 203.0.113.1 went away while natgw was stopped
        try (LogCapture log = new LogCapture(WanAddressWatcher.class)) {
            f.watcher.start();
            assertEquals(List.of(NEW), f.followed, "the first look, at start");
            assertEquals(1, log.lines(Level.WARN).stream().filter(l -> l.contains(
                    "network.wan.address 203.0.113.1 is not on interface gwwan: following its address 203.0.113.5")).count(),
                    log.lines(Level.WARN).toString());
        } finally {
            f.watcher.close();
        }
    }

    @Test
    void autoFollowsFromTheStart() {
        NatgwConfig.Network auto = new NatgwConfig.Network(NETWORK.lanAddresses(), NETWORK.lanClients(), NETWORK.lanInterfaces(),
                ip("192.168.77.1"), true, "gwwan");
        Fixture f = new Fixture(auto, List.of("sh", "-c", "exec sleep 600"));
        f.current.set(ip("192.168.77.1")); // what 'auto' resolved at start: the LAN side's address
        f.held = List.of(NEW);
        try {
            f.watcher.start();
            assertEquals(List.of(NEW), f.followed, "the first look, at start, corrects it");
        } finally {
            f.watcher.close();
        }
    }

    @Test
    void aMonitorThatDiesIsStartedAgainWithBackOffAndLogged() {
        // a real child that exits at once with status 3, as a killed or failing "ip monitor" would
        Fixture f = new Fixture(NETWORK, List.of("sh", "-c", "exit 3"));
        try (LogCapture log = new LogCapture(WanAddressWatcher.class)) {
            f.watcher.start();
            List<Long> delays = new ArrayList<>();
            for (int round = 1; round <= 8; round++) {
                int r = round;
                await("the child's exit to be seen").atMost(Duration.ofSeconds(30))
                        .until(() -> log.lines(Level.WARN).stream().filter(l -> l.contains("exited with status 3")).count() >= r);
                assertEquals(round, f.watcher.counts().starts());
                String last = log.lines(Level.WARN).get(log.lines(Level.WARN).size() - 1);
                delays.add(Long.parseLong(last.replaceAll(".*starting it again in (\\d+) s.*", "$1")));
                f.loop.advance(Duration.ofSeconds(delays.get(delays.size() - 1)).minusMillis(1));
                assertEquals(round, f.watcher.counts().starts(), "not before its back-off");
                f.loop.advance(Duration.ofMillis(1));
            }
            assertEquals(List.of(1L, 2L, 4L, 8L, 16L, 32L, 60L, 60L), delays);
            assertTrue(log.lines(Level.WARN).get(0).contains("the WAN address watcher (sh -c exit 3) exited with status 3"),
                    log.lines(Level.WARN).toString());
        } finally {
            f.watcher.close();
        }
    }

    @Test
    void aMonitorThatCannotStartIsRetriedToo() {
        Fixture f = new Fixture(NETWORK, List.of("/nonexistent/natgw-ip-monitor"));
        try (LogCapture log = new LogCapture(WanAddressWatcher.class)) {
            f.watcher.start();
            assertTrue(log.lines(Level.WARN).stream().anyMatch(l -> l.contains("/nonexistent/natgw-ip-monitor") && l.contains("starting it again in 1 s")),
                    log.lines(Level.WARN).toString());
            f.loop.advance(Duration.ofSeconds(1));
            assertEquals(2, f.watcher.counts().starts());
        } finally {
            f.watcher.close();
        }
    }

    @Test
    void linesFromTheRealChildReachTheWatcher() throws Exception {
        // the reader: a child that, once the test opens its gate, prints a line far too long (dropped whole) and a
        // captured deletion, then stays
        java.nio.file.Path gate = java.nio.file.Files.createTempDirectory("natgw-wan-gate").resolve("open");
        Fixture f = new Fixture(NETWORK, List.of("sh", "-c",
                "while [ ! -e \"$2\" ]; do sleep 0.05; done; printf '%s\\n' \"$0\" \"$1\"; exec sleep 600",
                "3: gwwan    inet 203.0.113.9/24 " + "x".repeat(5000), DELETED, gate.toString()));
        try {
            f.watcher.start();
            f.loop.advance(Duration.ofSeconds(3)); // the look after the spawn: the interface still holds the address
            assertEquals(0, f.loop.pending());
            f.held = List.of(NEW);
            java.nio.file.Files.createFile(gate);
            await("the deletion to be read").atMost(Duration.ofSeconds(30)).until(() -> f.loop.pending() >= 1);
            f.loop.advance(Duration.ofSeconds(3));
            assertEquals(List.of(NEW), f.followed);
        } finally {
            f.watcher.close();
            java.nio.file.Files.deleteIfExists(gate);
            java.nio.file.Files.deleteIfExists(gate.getParent());
        }
    }

    static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
