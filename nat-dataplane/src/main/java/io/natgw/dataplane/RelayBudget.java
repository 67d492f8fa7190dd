package io.natgw.dataplane;

import io.natgw.conf.NatgwConfig.RelayBudgets;
import io.natgw.core.MappingKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the WAN side can make the relay hold open ({@code dataplane.tcpConnections*}, {@code udpSessions*}): relayed
 * TCP connections in total, per mapping and per remote address, UDP sessions in total and per mapping. A slot is
 * taken before a connection or session is relayed and given back when it closes; over budget the newcomer is refused
 * and nothing already open is touched. TCP listeners that reach their cap wait here until a connection closes.
 * Safe from any thread; the counts are exact (no slot is taken past a cap).
 */
final class RelayBudget {

    private static final Logger log = LoggerFactory.getLogger(RelayBudget.class);
    /** At most one warning per budget in this period; the ones held back are counted into the next. */
    static final Duration WARN_PERIOD = Duration.ofMinutes(1);

    /** The budget a newcomer was refused by. */
    enum Limit {
        TCP_TOTAL("dataplane.tcpConnections", "relayed TCP connections in total"),
        TCP_PER_MAPPING("dataplane.tcpConnectionsPerMapping", "relayed TCP connections of one mapping"),
        TCP_PER_PEER("dataplane.tcpConnectionsPerPeer", "relayed TCP connections from one remote address"),
        UDP_TOTAL("dataplane.udpSessions", "UDP sessions in total"),
        UDP_PER_MAPPING("dataplane.udpSessionsPerMapping", "UDP sessions of one mapping");

        final String key;
        final String what;

        Limit(String key, String what) {
            this.key = key;
            this.what = what;
        }
    }

    private final RelayBudgets limits;
    private final int udpPerMapping;
    private final Clock clock;
    private final AtomicInteger tcpOpen = new AtomicInteger();
    private final AtomicInteger udpOpen = new AtomicInteger();
    private final Counts<MappingKey> tcpByMapping = new Counts<>();
    private final Counts<InetAddress> tcpByPeer = new Counts<>();
    private final Counts<MappingKey> udpByMapping = new Counts<>();
    /** TCP listeners that stopped accepting at a cap, resumed when a connection closes. */
    private final Set<TcpListener> waiting = ConcurrentHashMap.newKeySet();
    private final Map<Limit, Warning> warnings = new EnumMap<>(Limit.class);

    RelayBudget(RelayBudgets limits, int udpPerMapping, Clock clock) {
        this.limits = limits;
        this.udpPerMapping = udpPerMapping;
        this.clock = clock;
        for (Limit l : Limit.values()) {
            warnings.put(l, new Warning());
        }
        String tooHigh = descriptorWarning(limits, openFilesLimit());
        if (tooHigh != null) {
            log.warn(tooHigh);
        }
    }

    /**
     * A warning when the budgets let the WAN side take the process near its open-files limit (two descriptors per
     * relayed TCP connection, one per UDP session, with 1000 kept for listeners and the control plane), else null.
     */
    static String descriptorWarning(RelayBudgets b, long openFilesLimit) {
        long most = 2L * b.tcpConnections() + b.udpSessions();
        if (openFilesLimit <= 0 || most + 1000 <= openFilesLimit) {
            return null;
        }
        return "relay budgets allow " + most + " descriptors (2 x dataplane.tcpConnections " + b.tcpConnections()
                + " + dataplane.udpSessions " + b.udpSessions() + ") but the open-files limit is " + openFilesLimit
                + ": a WAN flood could leave the control plane without descriptors; lower them or raise the limit";
    }

    /** This process's open-files limit, or -1 where the JVM does not say. */
    static long openFilesLimit() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.UnixOperatingSystemMXBean unix ? unix.getMaxFileDescriptorCount() : -1;
    }

    RelayBudgets limits() {
        return limits;
    }

    /** Takes a TCP slot for {@code mapping} and {@code peer}; null when taken, else the budget that refused it. */
    Limit openTcp(MappingKey mapping, InetAddress peer) {
        if (!tcpByPeer.tryAdd(peer, limits.tcpConnectionsPerPeer())) {
            return refused(Limit.TCP_PER_PEER);
        }
        if (!tryAdd(tcpOpen, limits.tcpConnections())) {
            tcpByPeer.release(peer);
            return refused(Limit.TCP_TOTAL);
        }
        if (!tcpByMapping.tryAdd(mapping, limits.tcpConnectionsPerMapping())) {
            tcpOpen.decrementAndGet();
            tcpByPeer.release(peer);
            return refused(Limit.TCP_PER_MAPPING);
        }
        return null;
    }

    /** Gives back a slot {@link #openTcp} took, and lets listeners waiting at a cap accept again. */
    void closeTcp(MappingKey mapping, InetAddress peer) {
        tcpByMapping.release(mapping);
        tcpByPeer.release(peer);
        tcpOpen.decrementAndGet();
        for (TcpListener l : waiting) {
            l.resumeIfRoom();
        }
    }

    /**
     * A TCP port stopped accepting at a cap (counted and warned about as a refusal): the total when it is reached, else
     * its mappings' own.
     */
    void tcpPaused() {
        refused(tcpOpen.get() >= limits.tcpConnections() ? Limit.TCP_TOTAL : Limit.TCP_PER_MAPPING);
    }

    /** Whether a new connection of {@code mapping} would fit (per mapping and in total; per peer is not known yet). */
    boolean tcpRoomFor(MappingKey mapping) {
        return tcpOpen.get() < limits.tcpConnections() && tcpByMapping.get(mapping) < limits.tcpConnectionsPerMapping();
    }

    /** Takes a UDP session slot for {@code mapping}; null when taken, else the budget that refused it. */
    Limit openUdp(MappingKey mapping) {
        if (!tryAdd(udpOpen, limits.udpSessions())) {
            return refused(Limit.UDP_TOTAL);
        }
        if (!udpByMapping.tryAdd(mapping, udpPerMapping)) {
            udpOpen.decrementAndGet();
            return refused(Limit.UDP_PER_MAPPING);
        }
        return null;
    }

    void closeUdp(MappingKey mapping) {
        udpByMapping.release(mapping);
        udpOpen.decrementAndGet();
    }

    void waiting(TcpListener l, boolean waits) {
        if (waits) {
            waiting.add(l);
        } else {
            waiting.remove(l);
        }
    }

    /** Relayed TCP connections and UDP sessions holding a slot now. */
    int tcpOpen() {
        return tcpOpen.get();
    }

    int udpOpen() {
        return udpOpen.get();
    }

    /** Counts a refusal and logs one warning per budget per {@link #WARN_PERIOD}, never per connection. */
    private Limit refused(Limit limit) {
        Warning w = warnings.get(limit);
        w.refusals.incrementAndGet();
        long now = clock.millis();
        long last = w.lastLogged.get();
        if ((last == Long.MIN_VALUE || now - last >= WARN_PERIOD.toMillis()) && w.lastLogged.compareAndSet(last, now)) {
            log.warn("relay budget reached: {} ({}: {}); {} newcomer(s) refused or ports paused since the last such"
                    + " warning, established ones run on", limit.what, limit.key, limitOf(limit), w.refusals.getAndSet(0));
        }
        return limit;
    }

    private int limitOf(Limit l) {
        return switch (l) {
            case TCP_TOTAL -> limits.tcpConnections();
            case TCP_PER_MAPPING -> limits.tcpConnectionsPerMapping();
            case TCP_PER_PEER -> limits.tcpConnectionsPerPeer();
            case UDP_TOTAL -> limits.udpSessions();
            case UDP_PER_MAPPING -> udpPerMapping;
        };
    }

    private static boolean tryAdd(AtomicInteger n, int cap) {
        for (int v = n.get(); v < cap; v = n.get()) {
            if (n.compareAndSet(v, v + 1)) {
                return true;
            }
        }
        return false;
    }

    private static final class Warning {
        final AtomicLong lastLogged = new AtomicLong(Long.MIN_VALUE);
        final AtomicLong refusals = new AtomicLong();
    }

    /** Counts per key; a key leaves the map when its count returns to zero (the map holds only what is open). */
    private static final class Counts<K> {
        private final ConcurrentHashMap<K, Integer> counts = new ConcurrentHashMap<>();

        boolean tryAdd(K key, int cap) {
            boolean[] taken = {false};
            counts.compute(key, (k, v) -> {
                int n = v == null ? 0 : v;
                if (n >= cap) {
                    return v;
                }
                taken[0] = true;
                return n + 1;
            });
            return taken[0];
        }

        void release(K key) {
            counts.computeIfPresent(key, (k, v) -> v <= 1 ? null : v - 1);
        }

        int get(K key) {
            return counts.getOrDefault(key, 0);
        }
    }
}
