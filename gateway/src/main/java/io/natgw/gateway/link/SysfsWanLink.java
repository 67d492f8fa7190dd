package io.natgw.gateway.link;

import io.natgw.conf.NatgwConfig;
import io.natgw.core.WanLink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The WAN link read from {@code /sys/class/net/IF} (Documentation/ABI/testing/sysfs-class-net): {@code operstate},
 * {@code flags}, {@code carrier}, {@code carrier_changes}, {@code speed} and {@code statistics/{rx,tx}_{bytes,packets}}.
 *
 * <p>Which interface: in linux-gateway mode {@code network.wan.interface}; in userspace mode the interface that holds
 * the WAN address now ({@link NetworkInterface#getByInetAddress}, else the one whose subnet contains it, as the
 * kernel delivers 127.0.1.1 on {@code lo} whose address is 127.0.0.1/8), looked up again when the address changes.
 *
 * <p>Uptime: Linux records no time at which a link came up, so natgw observes it. A link already up at start counts
 * from natgw's first reading (a lower bound); a link seen going from not-up to up, or whose {@code carrier_changes}
 * moved between two readings (it flapped in between), counts from that reading. {@link #sample()} is called
 * periodically by the gateway, so the figure is exact to within that period.
 *
 * <p>Every file is read with a size cap and parsed defensively: a missing, unreadable or garbage file makes only its
 * figure unknown (-1, or {@link State#UNKNOWN} for the state); nothing here throws.
 */
public final class SysfsWanLink implements WanLink {

    private static final Logger LOG = LoggerFactory.getLogger(SysfsWanLink.class);

    /** Where the kernel lists network interfaces. */
    public static final Path SYS_CLASS_NET = Path.of("/sys/class/net");
    /** Longest content read from one sysfs file: every attribute used is a number or a short word. */
    private static final int MAX_FILE = 64;
    /** IFF_UP in {@code flags} (linux/if.h). */
    private static final long IFF_UP = 0x1;
    /** An interface name as the kernel accepts it: at most 15 bytes, no '/', not "." or "..". */
    private static final Pattern NAME = Pattern.compile("[^/\\s\\x00]{1,15}");

    private final Path root;
    private final Supplier<Optional<String>> interfaceName;
    private final Clock clock;
    /** Why no interface is known when {@code interfaceName} is empty. */
    private final Supplier<String> absentReason;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    // Observation state, guarded by this.
    private String observed;
    private State lastState;
    private long lastCarrierChanges = -1;
    private Instant upSince;

    /**
     * @param root          a directory laid out like {@code /sys/class/net}
     * @param interfaceName which interface to read now (empty: none known, the reason is {@link #absentReason})
     */
    public SysfsWanLink(Path root, Supplier<Optional<String>> interfaceName, Clock clock) {
        this(root, interfaceName, clock, () -> "no WAN interface");
    }

    private SysfsWanLink(Path root, Supplier<Optional<String>> interfaceName, Clock clock, Supplier<String> absentReason) {
        this.root = root;
        this.interfaceName = interfaceName;
        this.clock = clock;
        this.absentReason = absentReason;
    }

    /**
     * The link natgw runs on: linux-gateway mode reads {@code network.wan.interface}, userspace mode the interface
     * holding {@code externalAddress} (read at each call, so a changed WAN address is followed).
     */
    public static SysfsWanLink forConfig(NatgwConfig config, Supplier<InetAddress> externalAddress, Clock clock) {
        return forConfig(SYS_CLASS_NET, config, externalAddress, clock);
    }

    static SysfsWanLink forConfig(Path root, NatgwConfig config, Supplier<InetAddress> externalAddress, Clock clock) {
        return of(root, config.dataplane().mode() == NatgwConfig.DataplaneMode.LINUX_GATEWAY, config.network().wanInterface(),
                externalAddress, clock);
    }

    static SysfsWanLink of(Path root, boolean linuxGateway, String wanInterface, Supplier<InetAddress> externalAddress, Clock clock) {
        if (linuxGateway) {
            String name = wanInterface == null ? "" : wanInterface;
            return new SysfsWanLink(root, () -> name.isEmpty() ? Optional.empty() : Optional.of(name), clock,
                    () -> "network.wan.interface is not set");
        }
        AddressLookup lookup = new AddressLookup(externalAddress);
        return new SysfsWanLink(root, lookup::interfaceName, clock, lookup::problem);
    }

    @Override
    public void onStateChange(Runnable listener) {
        listeners.add(listener);
    }

    /** A reading whose only purpose is to notice transitions (the gateway's periodic sampler). */
    public void sample() {
        read();
    }

    @Override
    public Reading read() {
        Reading r;
        boolean changed;
        try {
            synchronized (this) {
                State before = lastState;
                r = readLocked();
                changed = before != null && before != r.state();
            }
        } catch (RuntimeException e) { // a bug here must not fail a SOAP action or a scrape
            LOG.debug("reading the WAN link failed", e);
            return Reading.absent("reading the WAN link failed: " + e);
        }
        if (changed) {
            LOG.info("WAN link {} is {}{}", r.interfaceName() == null ? "(none)" : r.interfaceName(),
                    r.state().name().toLowerCase(java.util.Locale.ROOT), r.problem() == null ? "" : ": " + r.problem());
            for (Runnable l : listeners) {
                try {
                    l.run();
                } catch (RuntimeException e) {
                    LOG.warn("a WAN link listener failed: {}", e.toString());
                }
            }
        }
        return r;
    }

    private Reading readLocked() {
        Instant now = clock.instant();
        Optional<String> name = interfaceName.get();
        if (name.isEmpty() || !NAME.matcher(name.get()).matches() || name.get().equals(".") || name.get().equals("..")) {
            String why = name.isPresent() ? "invalid interface name \"" + name.get() + "\"" : absentReason.get();
            return remember(null, Reading.absent(why), -1, now);
        }
        String ifname = name.get();
        Path dir = root.resolve(ifname);
        if (!Files.isDirectory(dir)) {
            return remember(ifname, Reading.absent("interface " + ifname + " does not exist (" + dir + ")"), -1, now);
        }
        Verdict v = state(dir);
        long carrierChanges = number(dir.resolve("carrier_changes"));
        long mbps = number(dir.resolve("speed"));
        long speed = mbps > 0 ? Math.multiplyExact(Math.min(mbps, Long.MAX_VALUE / 1_000_000), 1_000_000L) : -1;
        Path stats = dir.resolve("statistics");
        Reading partial = new Reading(ifname, v.state(), number(stats.resolve("rx_bytes")), number(stats.resolve("tx_bytes")),
                number(stats.resolve("rx_packets")), number(stats.resolve("tx_packets")), speed, -1, v.problem());
        return remember(ifname, partial, carrierChanges, now);
    }

    /** Updates the uptime observation with this reading and returns it with its uptime. Holds this. */
    private Reading remember(String ifname, Reading r, long carrierChanges, Instant now) {
        if (!java.util.Objects.equals(ifname, observed)) { // another interface (or none): a new observation
            observed = ifname;
            upSince = null;
            lastCarrierChanges = -1;
        }
        if (r.state() == State.UP) {
            boolean flapped = carrierChanges >= 0 && lastCarrierChanges >= 0 && carrierChanges != lastCarrierChanges;
            if (upSince == null || flapped) {
                upSince = now;
            }
        } else {
            upSince = null;
        }
        lastCarrierChanges = carrierChanges;
        lastState = r.state();
        long up = upSince == null ? -1 : Math.max(0, Duration.between(upSince, now).getSeconds());
        return new Reading(r.interfaceName(), r.state(), r.bytesReceived(), r.bytesSent(), r.packetsReceived(),
                r.packetsSent(), r.speedBitsPerSecond(), up, r.problem());
    }

    private record Verdict(State state, String problem) {
    }

    /**
     * operstate (RFC 2863 names, Documentation/networking/operstates.rst). "unknown" is what drivers that do not track
     * it report (lo, tun, some virtual links): the kernel's advice is to treat it as usable, so it is read as UP when
     * the interface is administratively up (IFF_UP) and its carrier, where readable, is on.
     */
    private static Verdict state(Path dir) {
        String op = text(dir.resolve("operstate"));
        if (op == null) {
            return new Verdict(State.UNKNOWN, "cannot read " + dir.resolve("operstate"));
        }
        switch (op) {
            case "up":
                return new Verdict(State.UP, null);
            case "down":
            case "lowerlayerdown":
            case "notpresent":
                return new Verdict(State.DOWN, "operstate " + op);
            case "dormant":
            case "testing":
                return new Verdict(State.INITIALIZING, "operstate " + op);
            case "unknown": {
                long flags = number(dir.resolve("flags"));
                long carrier = number(dir.resolve("carrier"));
                if (flags < 0) {
                    return new Verdict(State.UNKNOWN, "operstate unknown and unreadable flags");
                }
                if ((flags & IFF_UP) == 0) {
                    return new Verdict(State.DOWN, "interface down");
                }
                return carrier == 0 ? new Verdict(State.DOWN, "no carrier") : new Verdict(State.UP, null);
            }
            default:
                return new Verdict(State.UNKNOWN, "unexpected operstate \"" + op + "\"");
        }
    }

    /** A non-negative decimal or 0x-prefixed hexadecimal number, or -1 when missing, unreadable or anything else. */
    static long number(Path file) {
        String s = text(file);
        if (s == null || s.isEmpty()) {
            return -1;
        }
        try {
            long v = s.startsWith("0x") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s);
            return v >= 0 ? v : -1; // speed is -1 when unknown; a counter is never negative
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The file's first line, trimmed, of at most {@link #MAX_FILE} bytes; null when it cannot be read. */
    static String text(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes(MAX_FILE + 1);
            if (b.length > MAX_FILE) {
                return null; // no attribute used is this long: not what it claims to be
            }
            String s = new String(b, StandardCharsets.US_ASCII);
            int nl = s.indexOf('\n');
            return (nl >= 0 ? s.substring(0, nl) : s).trim();
        } catch (IOException | RuntimeException e) { // EINVAL from speed on a link without one, ENOENT, EACCES …
            return null;
        }
    }

    /** Finds the interface holding an address; caches by address, so it enumerates interfaces only on a change. */
    static final class AddressLookup {
        private final Supplier<InetAddress> address;
        private InetAddress cachedFor;
        private Optional<String> cached = Optional.empty();
        private String problem;

        AddressLookup(Supplier<InetAddress> address) {
            this.address = address;
        }

        synchronized Optional<String> interfaceName() {
            InetAddress a = address.get();
            if (a == null) {
                problem = "no WAN address";
                return Optional.empty();
            }
            if (!a.equals(cachedFor) || cached.isEmpty()) {
                cachedFor = a;
                cached = holder(a);
                problem = cached.isEmpty() ? "no interface holds the WAN address " + a.getHostAddress() : null;
            }
            return cached;
        }

        synchronized String problem() {
            return problem;
        }

        static Optional<String> holder(InetAddress a) {
            try {
                NetworkInterface exact = NetworkInterface.getByInetAddress(a);
                if (exact != null) {
                    return Optional.of(exact.getName());
                }
                for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                    for (InterfaceAddress ia : ni.getInterfaceAddresses()) {
                        if (ia.getAddress().getClass() == a.getClass() && sameSubnet(ia.getAddress(), a, ia.getNetworkPrefixLength())
                                && ia.getAddress().isLoopbackAddress()) {
                            return Optional.of(ni.getName()); // 127.0.1.1 is delivered on lo (127.0.0.1/8)
                        }
                    }
                }
            } catch (SocketException | RuntimeException e) {
                LOG.debug("listing interfaces failed: {}", e.toString());
            }
            return Optional.empty();
        }

        static boolean sameSubnet(InetAddress x, InetAddress y, int prefix) {
            byte[] a = x.getAddress();
            byte[] b = y.getAddress();
            if (a.length != b.length || prefix < 0 || prefix > a.length * 8) {
                return false;
            }
            for (int i = 0; i < prefix; i++) {
                int bit = 0x80 >>> (i % 8);
                if ((a[i / 8] & bit) != (b[i / 8] & bit)) {
                    return false;
                }
            }
            return true;
        }
    }
}
