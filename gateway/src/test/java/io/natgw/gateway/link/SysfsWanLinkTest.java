package io.natgw.gateway.link;

import io.natgw.core.WanLink;
import io.natgw.core.WanLink.Reading;
import io.natgw.core.WanLink.State;
import io.natgw.gateway.DefaultConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The sysfs reader against a temporary directory laid out like {@code /sys/class/net}, with a clock the test moves. */
class SysfsWanLinkTest {

    @TempDir
    Path root;
    private final MovableClock clock = new MovableClock(Instant.parse("2026-12-06T20:00:00Z"));

    /** A clock that moves only when told to. */
    static final class MovableClock extends Clock {
        private volatile Instant now;

        MovableClock(Instant now) {
            this.now = now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private Path iface(String name, String operstate, String speed, long rxBytes, long txBytes, long rxPackets, long txPackets)
            throws IOException {
        Path dir = Files.createDirectories(root.resolve(name).resolve("statistics"));
        write(name, "operstate", operstate);
        write(name, "flags", "0x1003");
        write(name, "carrier", "1");
        write(name, "carrier_changes", "2");
        if (speed != null) {
            write(name, "speed", speed);
        }
        write(name, "statistics/rx_bytes", Long.toString(rxBytes));
        write(name, "statistics/tx_bytes", Long.toString(txBytes));
        write(name, "statistics/rx_packets", Long.toString(rxPackets));
        write(name, "statistics/tx_packets", Long.toString(txPackets));
        return dir.getParent();
    }

    private void write(String iface, String file, String content) throws IOException {
        Files.writeString(root.resolve(iface).resolve(file), content + "\n");
    }

    private SysfsWanLink link(String name) {
        return new SysfsWanLink(root, () -> Optional.of(name), clock);
    }

    @Test
    void readsTheCountersSpeedAndStateOfTheInterface() throws Exception {
        iface("eth0", "up", "1000", 5_000_000_000L, 1234, 4_000_000, 66);
        assertEquals(new Reading("eth0", State.UP, 5_000_000_000L, 1234, 4_000_000, 66, 1_000_000_000L, 0, null), link("eth0").read());
    }

    @Test
    void uptimeCountsFromTheReadingThatSawTheLinkUpAndRestartsAfterAFlap() throws Exception {
        iface("eth0", "up", "1000", 0, 0, 0, 0);
        SysfsWanLink link = link("eth0");
        assertEquals(0, link.read().upSeconds(), "already up at the first reading: counts from it");
        clock.advance(Duration.ofSeconds(100));
        assertEquals(100, link.read().upSeconds());

        write("eth0", "carrier_changes", "4"); // down and up again between two readings
        clock.advance(Duration.ofSeconds(7));
        assertEquals(0, link.read().upSeconds(), "a flap between readings restarts the uptime");
        clock.advance(Duration.ofSeconds(5));
        assertEquals(5, link.read().upSeconds());

        write("eth0", "operstate", "down");
        Reading down = link.read();
        assertEquals(List.of(State.DOWN, -1L), List.of(down.state(), down.upSeconds()));
        assertEquals("operstate down", down.problem());
        clock.advance(Duration.ofSeconds(30));
        write("eth0", "operstate", "up");
        assertEquals(0, link.read().upSeconds(), "up again: counts from the reading that saw it");
        clock.advance(Duration.ofSeconds(3));
        assertEquals(3, link.read().upSeconds());
    }

    @Test
    void everyOperstateMapsToAState() throws Exception {
        iface("eth0", "up", "100", 0, 0, 0, 0);
        SysfsWanLink link = link("eth0");
        for (String[] c : new String[][]{{"up", "UP"}, {"down", "DOWN"}, {"lowerlayerdown", "DOWN"}, {"notpresent", "DOWN"},
                {"dormant", "INITIALIZING"}, {"testing", "INITIALIZING"}, {"UP", "UNKNOWN"}, {"", "UNKNOWN"}, {"sideways", "UNKNOWN"}}) {
            write("eth0", "operstate", c[0]);
            assertEquals(State.valueOf(c[1]), link.read().state(), c[0]);
        }
    }

    @Test
    void operstateUnknownIsReadFromTheFlagsAndCarrierAsLoopbackNeedsIt() throws Exception {
        iface("lo", "unknown", null, 10, 10, 1, 1);
        write("lo", "flags", "0x9"); // IFF_UP | IFF_LOOPBACK, as /sys/class/net/lo/flags
        SysfsWanLink link = link("lo");
        assertEquals(State.UP, link.read().state());
        write("lo", "carrier", "0");
        assertEquals(List.of(State.DOWN, "no carrier"), List.of(link.read().state(), link.read().problem()));
        write("lo", "carrier", "1");
        write("lo", "flags", "0x8");
        assertEquals(List.of(State.DOWN, "interface down"), List.of(link.read().state(), link.read().problem()));
        write("lo", "flags", "nonsense");
        assertEquals(State.UNKNOWN, link.read().state());
    }

    @Test
    void aVirtualLinkHasNoSpeed() throws Exception {
        iface("veth0", "up", "-1", 0, 0, 0, 0); // what veth reports
        assertEquals(-1, link("veth0").read().speedBitsPerSecond());
        Files.delete(root.resolve("veth0/speed"));
        Files.createDirectory(root.resolve("veth0/speed")); // reading fails with an IOException, as EINVAL from lo's speed
        assertEquals(-1, link("veth0").read().speedBitsPerSecond());
        assertTrue(link("veth0").read().speed().isEmpty());
    }

    @Test
    void missingOrGarbageFilesMakeOnlyTheirFigureUnknown() throws Exception {
        iface("eth0", "up", "10000", 1, 2, 3, 4);
        write("eth0", "statistics/rx_bytes", "12abc");
        write("eth0", "statistics/tx_bytes", "9".repeat(10_000)); // longer than any attribute: refused, not parsed
        Files.delete(root.resolve("eth0/statistics/rx_packets"));
        write("eth0", "statistics/tx_packets", "-5");
        Reading r = link("eth0").read();
        assertEquals(new Reading("eth0", State.UP, -1, -1, -1, -1, 10_000_000_000L, 0, null), r);

        Files.delete(root.resolve("eth0/operstate"));
        Files.createDirectory(root.resolve("eth0/operstate"));
        Reading unreadable = link("eth0").read();
        assertEquals(State.UNKNOWN, unreadable.state());
        assertTrue(unreadable.problem().contains("operstate"), unreadable.problem());

        write("eth0", "speed", "99999999999999999999999"); // does not fit a long
        assertEquals(-1, link("eth0").read().speedBitsPerSecond());
        write("eth0", "speed", "9223372036854775807"); // fits, but not multiplied into an overflow
        assertTrue(link("eth0").read().speedBitsPerSecond() > 0);
    }

    @Test
    void noInterfaceOrAnUnsafeNameIsAbsentWithTheReason() throws Exception {
        Files.createDirectories(root.resolve("etc"));
        for (String bad : List.of("../etc", "..", ".", "a/b", "x".repeat(16), "")) {
            Reading r = link(bad).read();
            assertEquals(State.ABSENT, r.state(), bad);
            assertNull(r.interfaceName(), bad);
        }
        Reading missing = link("wan9").read();
        assertEquals(State.ABSENT, missing.state());
        assertTrue(missing.problem().contains("wan9 does not exist"), missing.problem());
        Reading none = new SysfsWanLink(root, Optional::empty, clock).read();
        assertEquals(Reading.absent("no WAN interface"), none);
    }

    @Test
    void listenersHearEachStateChangeOnce() throws Exception {
        iface("eth0", "up", "1000", 0, 0, 0, 0);
        SysfsWanLink link = link("eth0");
        AtomicInteger changes = new AtomicInteger();
        link.onStateChange(changes::incrementAndGet);
        link.onStateChange(() -> {
            throw new IllegalStateException("a failing listener does not stop the others or the reading");
        });
        link.read();
        link.read();
        assertEquals(0, changes.get(), "the first reading is not a change");
        write("eth0", "operstate", "down");
        link.sample();
        link.read();
        assertEquals(1, changes.get());
        write("eth0", "operstate", "up");
        assertEquals(State.UP, link.read().state());
        assertEquals(2, changes.get());
    }

    @Test
    void linuxGatewayModeReadsTheConfiguredInterface() throws Exception {
        iface("wan0", "up", "1000", 7, 8, 9, 10);
        SysfsWanLink link = SysfsWanLink.of(root, true, "wan0", () -> InetAddress.getLoopbackAddress(), clock);
        assertEquals("wan0", link.read().interfaceName());
        Reading unset = SysfsWanLink.of(root, true, "", () -> InetAddress.getLoopbackAddress(), clock).read();
        assertEquals(Reading.absent("network.wan.interface is not set"), unset);
    }

    @Test
    void userspaceModeReadsTheInterfaceHoldingTheWanAddressAndFollowsIt() throws Exception {
        iface("lo", "unknown", null, 0, 0, 0, 0);
        write("lo", "flags", "0x9");
        InetAddress[] wan = {InetAddress.getByName("127.0.1.1")};
        // the shipped sandbox: 127.0.1.1 is no interface's own address, but lo's 127.0.0.1/8 holds it
        SysfsWanLink link = SysfsWanLink.forConfig(root, DefaultConfig.load(), () -> wan[0], clock);
        assertEquals(List.of("lo", State.UP), List.of(link.read().interfaceName(), link.read().state()));
        wan[0] = InetAddress.getByName("203.0.113.77"); // held by nothing on this host
        assertEquals(Reading.absent("no interface holds the WAN address 203.0.113.77"), link.read());
        wan[0] = InetAddress.getLoopbackAddress();
        assertEquals("lo", link.read().interfaceName());
    }

    @Test
    void theRealLoopbackIsReadable() {
        assumeTrue(Files.isDirectory(SysfsWanLink.SYS_CLASS_NET.resolve("lo")), "no /sys/class/net/lo (not Linux)");
        Reading lo = new SysfsWanLink(SysfsWanLink.SYS_CLASS_NET, () -> Optional.of("lo"), Clock.systemUTC()).read();
        assertEquals(List.of(State.UP, -1L), List.of(lo.state(), lo.speedBitsPerSecond()), lo.toString()); // speed: EINVAL
        assertTrue(lo.bytesReceived() >= 0 && lo.packetsSent() >= 0, lo.toString());
    }

    @Test
    void theNoneLinkIsAbsent() {
        assertEquals(State.ABSENT, WanLink.NONE.read().state());
    }
}
