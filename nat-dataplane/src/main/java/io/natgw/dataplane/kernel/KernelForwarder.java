package io.natgw.dataplane.kernel;

import io.natgw.conf.NatgwConfig;
import io.natgw.conf.TriggerRule;
import io.natgw.core.Change;
import io.natgw.core.Forwarder.ForwardingException;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import io.natgw.core.TrafficStats;
import io.natgw.dataplane.kernel.KernelRuleset.Element;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kernel forwarding (linux-gateway mode, {@code dataplane.forwarding: kernel}): each enabled mapping is an element of
 * natgw's own nftables table ({@link KernelRuleset}). {@link #prepare} queues a change in the desired state,
 * {@link #flush} applies every queued change of the table's writer batch, removals and disabling included, in one
 * nftables transaction (while the table's journal thread commits the batch, before the answer: an acknowledged
 * mapping forwards, and a failure reverts the whole batch and takes it back in the journal). The first apply after start replaces the table (a stale one left by {@code kill -9} included) with the
 * restored leases in one atomic transaction, so established and new flows see no gap; {@link #close} removes it.
 *
 * <p>A removal leaves its counter elements ({@code rx}, {@code tx}): reading them first would list both sets (nft 1.0.6
 * fetches a whole set for a {@code get element}), an O(table) cost per delete. The poller's retirement pass adds their
 * final values to the totals and deletes them; a re-used mark retires them in its own batch first (see
 * {@link #pending}).
 *
 * <p>Called on the table's writer thread (and start/close); counters are read from any thread.
 */
public final class KernelForwarder implements TrafficStats, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(KernelForwarder.class);
    private static final long COUNTER_CACHE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final Pattern ELEM_COUNTER = Pattern.compile(
            "\"val\":\\s*(\\d+),\\s*\"counter\":\\s*\\{\\s*\"packets\":\\s*(\\d+),\\s*\"bytes\":\\s*(\\d+)");

    private record Entry(Mapping mapping, Element element) {
    }

    private record Undo(Change change, Map<MappingKey, Entry> previous) {
    }

    private final NatgwConfig config;
    private final Supplier<List<TriggerRule>> rules;
    private final boolean cutOnDelete;
    private Nft nft;
    private volatile InetAddress wan;
    /** What the kernel has (as far as the last successful transaction says). Read by the counters. */
    private final Map<MappingKey, Entry> installed = new ConcurrentHashMap<>();
    /** What the table wants. */
    private final Map<MappingKey, Entry> desired = new HashMap<>();
    private final Set<MappingKey> dirty = new LinkedHashSet<>();
    private final List<Undo> undo = new ArrayList<>();
    /**
     * Marks of a stale table's (a crashed run's) filtered mappings by element key, reused so their flows keep their
     * mapping. Mappings without a remote filter need none: their mark is a function of their key.
     */
    private final Map<String, Long> staleMarks = new HashMap<>();
    private boolean staleCompatible;
    private boolean stale;
    private long nextId = KernelRuleset.FILTERED_FIRST;
    private volatile boolean built;
    private final ExecutorService cutter = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "natgw-conntrack-cut");
        t.setDaemon(true);
        return t;
    });

    /** Counters are read through a context of their own, so a large listing never holds up the writer. */
    private volatile Nft counterNft;
    private final Object counterLock = new Object();
    private volatile CounterSnapshot elementCounters = new CounterSnapshot(0, Map.of(), Map.of(), Map.of());
    private volatile long totalsAt;
    private volatile Counters totals = Counters.ZERO;
    /**
     * Totals of the elements removed since start (rx packets, rx bytes, tx packets, tx bytes): the totals are every
     * element's counters summed plus these, so the packet path keeps no separate total counters. Under counterLock.
     */
    private final long[] retired = new long[4];
    /** Installed NAT mappings with a remote filter by (protocol . port): a port is in {@code fports} while it has one. */
    private final Map<String, Integer> filteredPorts = new HashMap<>();
    private boolean everBuilt;
    /**
     * Removed elements whose counter elements ({@code rx}, {@code tx}) are still in the kernel, by mark: the removal's
     * transaction leaves them (reading them then would list both sets: a delete would cost O(table)), and the
     * retirement pass ({@link #retirementPass}, each {@code retirementPeriod} on the poller) adds their final values to
     * {@link #retired} and deletes them in one transaction. The value is the removal's sequence number, so a pass that
     * read a mark before it was re-used and removed again does not retire the newer element's counts with the older
     * figures. Under this object's lock.
     */
    private final Map<Long, Long> pending = new HashMap<>();
    private long pendingSeq;
    /** More pending retirements than this and the writer retires them at once (a flood between two passes). */
    private final int pendingLimit;
    private final long retirementMillis;
    /** The default bound of pending retirements (a pass is queued early at half of it). */
    public static final int PENDING_LIMIT = 16_384;
    /** A retirement pass is queued on the poller (half the bound reached): not queued again until it starts. */
    private boolean passQueued;
    /** The default period of the retirement pass. */
    public static final java.time.Duration RETIREMENT_PERIOD = java.time.Duration.ofSeconds(1);

    private record CounterSnapshot(long at, Map<Long, long[]> rx, Map<Long, long[]> tx, Map<Long, Integer> sessions) {
    }

    private static final Pattern CT_MARK = Pattern.compile("\\bmark=(\\d+)");

    /** Packets seen by mark in the triggered mappings' counters ({@code trx}), by the poller only. */
    private final Map<Long, Long> trxSeen = new HashMap<>();
    /** The writer's netlink socket for element changes (null: libnftables only). */
    private NftNetlink netlink;
    /** The counter thread's netlink socket (under counterLock; null: listings only). */
    private NftNetlink counterNetlink;
    private final java.util.concurrent.atomic.LongAdder counterReads = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder counterListings = new java.util.concurrent.atomic.LongAdder();
    private java.util.function.Consumer<String> observer = script -> { };
    private final java.util.concurrent.atomic.LongAdder viaNetlink = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder viaLibnftables = new java.util.concurrent.atomic.LongAdder();
    private final java.util.function.Consumer<Mapping> incomingTraffic;
    private java.util.concurrent.ScheduledExecutorService poller;

    /**
     * @param incomingTraffic told (at most once a second per mapping) when a triggered mapping carried WAN traffic,
     *                        so its lease is renewed ({@code TriggerEngine.incomingTraffic})
     */
    public KernelForwarder(NatgwConfig config, InetAddress wan, Supplier<List<TriggerRule>> rules,
                           java.util.function.Consumer<Mapping> incomingTraffic) {
        this(config, wan, rules, incomingTraffic, PENDING_LIMIT, RETIREMENT_PERIOD);
    }

    /**
     * As {@link #KernelForwarder(NatgwConfig, InetAddress, Supplier, java.util.function.Consumer)}, with the bound of
     * removed elements whose counters wait for the retirement pass and that pass's period (tests set them).
     */
    public KernelForwarder(NatgwConfig config, InetAddress wan, Supplier<List<TriggerRule>> rules,
                           java.util.function.Consumer<Mapping> incomingTraffic, int pendingLimit,
                           java.time.Duration retirementPeriod) {
        if (pendingLimit < 1 || retirementPeriod.toMillis() < 1) {
            throw new IllegalArgumentException("pendingLimit " + pendingLimit + " and retirementPeriod " + retirementPeriod
                    + " (accepted: at least 1 and 1 ms)");
        }
        this.pendingLimit = pendingLimit;
        this.retirementMillis = retirementPeriod.toMillis();
        this.config = config;
        this.wan = wan;
        this.rules = rules;
        this.incomingTraffic = incomingTraffic;
        this.cutOnDelete = config.dataplane().cutOnDelete();
    }

    /**
     * Checks that kernel forwarding can work here and leaves the kernel as it is (a stale table keeps forwarding
     * until {@link #build}).
     *
     * @throws IllegalStateException naming everything that is missing
     */
    public synchronized void start() {
        List<String> problems = SelfCheck.problems(config, wan);
        if (problems.isEmpty()) {
            try {
                nft = Nft.open();
            } catch (IllegalStateException e) {
                problems.add(e.getMessage());
            }
        }
        if (problems.isEmpty()) {
            problems.addAll(SelfCheck.tables(nft));
        }
        if (problems.isEmpty()) {
            try {
                nft.check(script(List.of()));
            } catch (Nft.NftException e) {
                problems.add("nftables refuses natgw's table: " + e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            close();
            throw new IllegalStateException("linux-gateway mode (dataplane.forwarding: kernel) refuses to start: "
                    + String.join("; ", problems));
        }
        readStale();
        try {
            netlink = NftNetlink.open();
        } catch (IllegalStateException e) {
            log.warn("{}: element changes go through libnftables", e.getMessage());
        }
        counterNft = Nft.open();
        if (netlink != null) {
            try {
                counterNetlink = NftNetlink.open(); // the counter thread's own: a read never waits for the writer's batch
            } catch (IllegalStateException e) {
                log.warn("{}: removed elements' counters are read by listing", e.getMessage());
            }
        }
        poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "natgw-kernel-counters");
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(this::pollTriggered, 1, 1, TimeUnit.SECONDS);
        poller.scheduleWithFixedDelay(this::retirementPass, retirementMillis, retirementMillis, TimeUnit.MILLISECONDS);
        log.info("kernel forwarding ready: nftables table inet {} for {} (wan {}, lan {}){}", KernelRuleset.TABLE,
                wan.getHostAddress(), config.network().wanInterface(), config.network().lanInterfaces(),
                stale ? ", a previous run's table forwards until the leases are restored" : "");
    }

    /**
     * A previous run's table (left by kill -9) keeps forwarding until the first apply. If its structure is this
     * configuration's (the comment's digest), the first apply refills its maps in one transaction
     * ({@link KernelRuleset#refill}); else it replaces the table. Only the filtered mappings' marks are read (the
     * others' are their keys), so a large stale table costs no listing.
     */
    private void readStale() {
        String t;
        try {
            t = nft.terse("list table inet " + KernelRuleset.TABLE);
        } catch (Nft.NftException e) {
            return; // no stale table
        }
        staleCompatible = t.contains("comment \"" + KernelRuleset.comment(wan, config.network().wanInterface(),
                config.network().lanInterfaces(), config.dataplane().ipv6Firewall(), cutOnDelete) + "\"");
        stale = true;
        try {
            KernelRuleset.parseElements(nft.run("list map inet " + KernelRuleset.TABLE + " fmark4")).forEach((k, v) -> {
                long mark = Long.decode(v);
                if ((mark & ~KernelRuleset.MAPPED) >= KernelRuleset.FILTERED_FIRST) {
                    staleMarks.put(k, mark);
                    nextId = Math.max(nextId, (mark & ~KernelRuleset.MAPPED) + 1);
                }
            });
        } catch (Nft.NftException | RuntimeException e) {
            log.warn("the previous run's nftables table cannot be read ({}): it is replaced whole", e.getMessage());
            staleCompatible = false;
            staleMarks.clear();
        }
    }

    /**
     * The first apply over a compatible stale table: its forwarding maps flushed and filled in one transaction (the
     * flows it carries keep going: their NAT is in conntrack, their marks unchanged), then its counters.
     */
    private void reconcile(List<Element> all) throws Nft.NftException {
        long t0 = System.nanoTime();
        nft.run(KernelRuleset.refill(rules.get(), all));
        long t1 = System.nanoTime();
        nft.run(KernelRuleset.counters(all));
        log.info("nftables table inet {} reconciled with the {} restored mappings in {} ms (maps refilled in one "
                        + "transaction; counters in {} ms more)", KernelRuleset.TABLE, all.size(),
                TimeUnit.NANOSECONDS.toMillis(t1 - t0), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1));
    }

    // ---- the table's writer thread ----

    public synchronized void prepare(Change change) throws ForwardingException {
        Mapping after = change.after();
        if (change.type() == Change.Type.UPDATED && !change.affectsForwarding()) {
            return;
        }
        if (after == null || !after.enabled()) {
            // a removal or disabling: its element goes in the batch's transaction with the adds (never refused)
            Map<MappingKey, Entry> previous = new HashMap<>();
            for (Mapping m : after == null ? List.of(change.before()) : List.of(change.before(), after)) {
                if (m != null) {
                    previous.putIfAbsent(m.key(), desired.get(m.key()));
                    removeSameRow(m);
                }
            }
            undo.add(new Undo(change, previous));
            return;
        }
        if (!KernelRuleset.carries(after)) {
            throw new ForwardingException("kernel forwarding carries NAT mappings to IPv4 hosts with IPv4 remote "
                    + "filters and pinholes to IPv6 hosts with IPv6 remote filters, not " + after, null);
        }
        Map<MappingKey, Entry> previous = new HashMap<>();
        previous.put(after.key(), desired.get(after.key()));
        if (change.before() != null && !change.before().key().equals(after.key())) {
            previous.put(change.before().key(), desired.get(change.before().key()));
            remove(change.before());
        }
        put(after);
        undo.add(new Undo(change, previous));
    }

    /** Applies what {@link #prepare} queued (adds, changes, removals), in one transaction. */
    public synchronized void flush() throws ForwardingException {
        try {
            apply();
        } catch (Nft.NftException e) {
            throw new ForwardingException("nftables: " + e.getMessage(), e);
        }
    }

    public synchronized void abort(Change change) {
        for (int i = undo.size() - 1; i >= 0; i--) {
            Undo u = undo.get(i);
            if (u.change() == change || u.change().equals(change)) {
                undo.remove(i);
                u.previous().forEach((k, e) -> {
                    if (e == null) {
                        desired.remove(k);
                    } else {
                        desired.put(k, e);
                    }
                    dirty.add(k);
                });
                break;
            }
        }
        try {
            apply();
        } catch (Nft.NftException e) {
            log.error("cannot undo {} in nftables: {}", change.mapping(), e.getMessage());
        }
    }

    /**
     * The batch is durable. Its changes were applied by {@link #flush} already (adds and removals); this only brings
     * the desired state in line again if a flush did not take (a removal is applied now, whatever happened).
     */
    public synchronized void committed(List<Change> changes) {
        undo.clear();
        for (Change c : changes) {
            switch (c.type()) {
                case ADDED -> ensure(c.after());
                case UPDATED -> {
                    if (c.after().enabled()) {
                        ensure(c.after());
                    } else {
                        removeSameRow(c.before());
                        removeSameRow(c.after());
                    }
                }
                case REMOVED -> removeSameRow(c.before());
            }
        }
        try {
            apply();
        } catch (Nft.NftException e) {
            log.error("nftables did not take {} committed changes (retried with the next change): {}", dirty.size(),
                    e.getMessage());
        }
    }

    /** The table has started (its leases restored): builds the table now if no change did yet. */
    public synchronized void tableStarted() {
        try {
            apply();
        } catch (Nft.NftException e) {
            throw new IllegalStateException("linux-gateway mode cannot install its nftables table: " + e.getMessage(), e);
        }
    }

    public synchronized void externalAddressChanged(InetAddress current) {
        if (!(current instanceof Inet4Address)) {
            log.warn("kernel forwarding needs an IPv4 external address; {} ignored", current.getHostAddress());
            return;
        }
        wan = current;
        built = false;
        staleCompatible = false;
        try {
            apply();
        } catch (Nft.NftException e) {
            log.error("nftables table not rebuilt for the external address {}: {}", current.getHostAddress(), e.getMessage());
        }
    }

    /** The trigger rules changed: the trigger and hold port sets follow, in one transaction. */
    public synchronized void rulesChanged(List<TriggerRule> next) {
        if (!built) {
            return;
        }
        try {
            nft.run(KernelRuleset.triggerPorts(next));
        } catch (Nft.NftException e) {
            log.error("nftables trigger ports not updated: {}", e.getMessage());
        }
    }

    private void ensure(Mapping m) {
        if (!m.enabled() || !KernelRuleset.carries(m)) {
            return;
        }
        Entry e = desired.get(m.key());
        if (e != null && e.mapping().internal().equals(m.internal()) && e.mapping().pinholeId() == m.pinholeId()) {
            if (!e.mapping().equals(m)) {
                Entry refreshed = new Entry(m, e.element());
                desired.put(m.key(), refreshed); // a lease refresh: the same element
                installed.computeIfPresent(m.key(), (k, old) -> old.element().equals(e.element()) ? refreshed : old);
            }
            return;
        }
        put(m);
    }

    private void removeSameRow(Mapping m) {
        Entry e = desired.get(m.key());
        if (e != null && e.mapping().owner().equals(m.owner()) && e.mapping().createdAt().equals(m.createdAt())) {
            desired.remove(m.key());
            dirty.add(m.key());
        }
    }

    private void put(Mapping m) {
        Entry old = desired.get(m.key());
        long mark;
        if (m.pinhole()) {
            mark = KernelRuleset.pinholeMark(m.pinholeId()); // its id: a restart knows it without a listing
        } else if (old != null && old.mapping().internal().equals(m.internal())) {
            mark = old.element().mark();
        } else {
            Element probe = Element.of(m, 0);
            if (!probe.filtered()) {
                mark = KernelRuleset.mark(m.protocol(), m.externalPort());
            } else {
                Long staleMark = staleMarks.remove(probe.key());
                mark = staleMark != null ? staleMark : KernelRuleset.MAPPED | nextId++;
                if (nextId >= KernelRuleset.PINHOLE) {
                    nextId = KernelRuleset.FILTERED_FIRST;
                }
            }
        }
        desired.put(m.key(), new Entry(m, Element.of(m, mark)));
        dirty.add(m.key());
    }

    private void remove(Mapping m) {
        if (desired.remove(m.key()) != null) {
            dirty.add(m.key());
        }
    }

    /** Brings the kernel to the desired state: the whole table the first time, else the dirty keys' elements. */
    private void apply() throws Nft.NftException {
        if (nft == null) {
            throw new Nft.NftException("kernel forwarding is not running");
        }
        if (!built) {
            List<Element> all = desired.values().stream().map(Entry::element).toList();
            long t0 = System.nanoTime();
            boolean reconciled = false;
            if (staleCompatible) {
                try {
                    reconcile(all);
                    reconciled = true;
                } catch (Nft.NftException e) {
                    log.warn("the previous run's nftables table does not reconcile ({}): it is replaced whole", e.getMessage());
                }
            }
            if (everBuilt) {
                retire(readAll()); // a rebuild (another external address) starts every counter again
                pending.clear(); // read with the rest (the rebuild drops their elements)
            }
            if (!reconciled) {
                nft.run(script(all));
                long t1 = System.nanoTime();
                nft.run(KernelRuleset.counters(all));
                log.info("nftables table inet {} installed with {} mappings in {} ms (one transaction; counters in {} ms "
                                + "more)", KernelRuleset.TABLE, all.size(), TimeUnit.NANOSECONDS.toMillis(t1 - t0),
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1));
            }
            installed.clear();
            installed.putAll(desired);
            filteredPorts.clear();
            for (Entry e : installed.values()) {
                if (e.element().filtered() && !e.element().pinhole()) {
                    filteredPorts.merge(e.element().portKey(), 1, Integer::sum);
                }
            }
            dirty.clear();
            built = true;
            everBuilt = true;
            staleCompatible = false;
            stale = false;
            staleMarks.clear();
            return;
        }
        if (dirty.isEmpty()) {
            return;
        }
        List<Element> removed = new ArrayList<>();
        List<Element> added = new ArrayList<>();
        List<Long> cut = new ArrayList<>();
        for (MappingKey k : dirty) {
            Entry was = installed.get(k);
            Entry now = desired.get(k);
            if (was != null && now != null && was.element().equals(now.element())) {
                continue;
            }
            if (was != null) {
                removed.add(was.element());
                // a pinhole's flows are cut by the forward chain's drop of marks no counter set has (not conntrack -D)
                if (!was.element().pinhole() && (now == null || now.element().mark() != was.element().mark()
                        || !now.element().dnatValue().equals(was.element().dnatValue()))) {
                    cut.add(was.element().mark());
                }
            }
            if (now != null) {
                added.add(now.element());
            }
        }
        if (!removed.isEmpty() || !added.isEmpty()) {
            // the ports whose filtered mappings come and go: fports gates the filtered maps' lookups
            Map<String, Integer> delta = new HashMap<>();
            removed.stream().filter(e -> e.filtered() && !e.pinhole()).forEach(e -> delta.merge(e.portKey(), -1, Integer::sum));
            added.stream().filter(e -> e.filtered() && !e.pinhole()).forEach(e -> delta.merge(e.portKey(), 1, Integer::sum));
            List<String> portsGone = new ArrayList<>();
            List<String> portsNew = new ArrayList<>();
            delta.forEach((port, d) -> {
                int before = filteredPorts.getOrDefault(port, 0);
                if (before > 0 && before + d <= 0) {
                    portsGone.add(port);
                } else if (before <= 0 && before + d > 0) {
                    portsNew.add(port);
                }
            });
            // the removed elements' counters stay (retired by the next pass), unless a mark comes back in this batch
            // before its old counters were retired: then every pending one and this batch's are read now (one listing
            // of rx and tx: the rare path) and deleted in this transaction, so the new element starts from zero
            Set<Long> removedMarks = new java.util.HashSet<>();
            removed.forEach(e -> removedMarks.add(e.mark()));
            boolean reused = added.stream().anyMatch(e -> pending.containsKey(e.mark()) || removedMarks.contains(e.mark()));
            Set<Long> countersGone = Set.of();
            Map<Long, long[]> counted = Map.of();
            if (reused) {
                countersGone = new java.util.HashSet<>(pending.keySet());
                countersGone.addAll(removedMarks);
                counted = read(nft, countersGone);
            }
            run(KernelRuleset.transaction(removed, added, portsGone, portsNew, countersGone));
            delta.forEach((port, d) -> {
                int after = filteredPorts.getOrDefault(port, 0) + d;
                if (after > 0) {
                    filteredPorts.put(port, after);
                } else {
                    filteredPorts.remove(port);
                }
            });
            if (reused) {
                pending.clear();
                retire(counted);
            } else {
                removedMarks.forEach(m -> pending.put(m, ++pendingSeq));
            }
        }
        for (MappingKey k : dirty) {
            Entry now = desired.get(k);
            if (now == null) {
                installed.remove(k);
            } else {
                installed.put(k, now);
            }
        }
        dirty.clear();
        if (cutOnDelete && !cut.isEmpty()) {
            cutter.execute(() -> cut.forEach(KernelForwarder::cut));
        }
        if (pending.size() > pendingLimit) {
            // a flood of removals the passes do not keep up with: retired now, on the writer (one listing)
            Map<Long, Long> due = new HashMap<>(pending);
            retireDue(due, read(nft, due.keySet()));
        } else if (pending.size() > pendingLimit / 2 && !passQueued && poller != null) {
            passQueued = true; // a flood between two passes: the next one now, off the writer
            poller.execute(this::retirementPass);
        }
    }

    /** How many removed elements' counters wait for the retirement pass (at most the bound, after a change). */
    public synchronized int pendingRetirements() {
        return pending.size();
    }

    /**
     * The retirement pass (the poller, each {@code retirementPeriod}): the pending marks' counters read through the
     * counters' context (one listing of rx and tx, not under the writer's lock), then retired in one transaction.
     */
    private void retirementPass() {
        try {
            Map<Long, Long> due;
            synchronized (this) {
                passQueued = false;
                if (!built || pending.isEmpty()) {
                    return;
                }
                due = new HashMap<>(pending);
            }
            Map<Long, long[]> counted;
            synchronized (counterLock) {
                Nft n = counterNft;
                if (n == null) {
                    return;
                }
                counted = counted(n, counterNetlink, due.keySet());
            }
            synchronized (this) {
                if (built && nft != null) {
                    retireDue(due, counted);
                }
            }
        } catch (Nft.NftException | RuntimeException e) {
            log.debug("removed elements' counters not retired yet: {}", e.toString());
        }
    }

    /**
     * Deletes the counter elements of the marks that are still pending as {@code due} saw them (same removal) and adds
     * their {@code counted} values to the totals. A mark re-used and removed again since has another sequence number and
     * waits for the next pass. Under this object's lock.
     */
    private void retireDue(Map<Long, Long> due, Map<Long, long[]> counted) {
        List<Long> marks = new ArrayList<>();
        due.forEach((mark, seq) -> {
            if (seq.equals(pending.get(mark))) {
                marks.add(mark);
            }
        });
        if (marks.isEmpty()) {
            return;
        }
        try {
            run(KernelRuleset.retirement(marks));
        } catch (Nft.NftException e) {
            // an element the listing did not have is gone already: forgotten, the others tried again next pass
            marks.stream().filter(m -> !counted.containsKey(m)).forEach(pending::remove);
            log.warn("removed elements' counters not retired ({} pending): {}", pending.size(), e.getMessage());
            return;
        }
        Map<Long, long[]> values = new HashMap<>();
        for (Long m : marks) {
            pending.remove(m);
            long[] c = counted.get(m);
            if (c != null) {
                values.put(m, c);
            }
        }
        retire(values);
    }

    /**
     * The counters of these marks ({@code rx}, {@code tx}: packets, bytes, packets, bytes by mark), read on the
     * writer: these elements only, over netlink ({@link #counted}). Where the kernel cannot say, the last snapshot's
     * figures.
     */
    private Map<Long, long[]> read(Nft n, Set<Long> marks) {
        try {
            return counted(n, netlink, marks);
        } catch (Nft.NftException e) {
            Map<Long, long[]> out = new HashMap<>();
            CounterSnapshot s = elementCounters;
            for (Long mark : marks) {
                long[] rx = s.rx().getOrDefault(mark, new long[2]);
                long[] tx = s.tx().getOrDefault(mark, new long[2]);
                out.put(mark, new long[] {rx[0], rx[1], tx[0], tx[1]});
            }
            log.debug("counters of removed elements not read ({}): the last snapshot's kept", e.getMessage());
            return out;
        }
    }

    /**
     * These marks' counters now (packets, bytes in, packets, bytes out): asked for by key over {@code nl} (the cost
     * is theirs, not the table's: a retirement after a delete among 100 000 mappings reads two elements, not two
     * listings of 100 000), or, without netlink or when a mark is not in a set any more, from {@link #listed}.
     */
    private Map<Long, long[]> counted(Nft n, NftNetlink nl, Set<Long> marks) throws Nft.NftException {
        if (nl != null && !marks.isEmpty()) {
            List<Long> order = List.copyOf(marks);
            List<byte[]> keys = order.stream().map(KernelRuleset::markBytes).toList();
            try {
                List<long[]> rx = nl.counters(KernelRuleset.TABLE, "rx", keys);
                List<long[]> tx = nl.counters(KernelRuleset.TABLE, "tx", keys);
                Map<Long, long[]> out = new HashMap<>();
                for (int i = 0; i < order.size(); i++) {
                    out.put(order.get(i), new long[] {rx.get(i)[0], rx.get(i)[1], tx.get(i)[0], tx.get(i)[1]});
                }
                counterReads.increment();
                return out;
            } catch (NftNetlink.NetlinkException e) {
                log.debug("counters of {} marks not read by key ({}): listed instead", marks.size(), e.getMessage());
            }
        }
        counterListings.increment();
        return listed(n, marks);
    }

    /** These marks' counters as listed now (packets, bytes in, packets, bytes out); a mark not listed is absent. */
    private static Map<Long, long[]> listed(Nft n, Set<Long> marks) throws Nft.NftException {
        Map<Long, long[]> out = new HashMap<>();
        elementCounters(n, "rx").forEach((m, c) -> {
            if (marks.contains(m)) {
                out.put(m, new long[] {c[0], c[1], 0, 0});
            }
        });
        elementCounters(n, "tx").forEach((m, c) -> {
            if (marks.contains(m)) {
                long[] v = out.computeIfAbsent(m, k -> new long[4]);
                v[2] = c[0];
                v[3] = c[1];
            }
        });
        return out;
    }

    /** Every element's counters, before a rebuild starts them again. */
    private Map<Long, long[]> readAll() {
        Map<Long, long[]> out = new HashMap<>();
        try {
            elementCounters(nft, "rx").forEach((m, c) -> out.put(m, new long[] {c[0], c[1], 0, 0}));
            elementCounters(nft, "tx").forEach((m, c) -> {
                long[] v = out.computeIfAbsent(m, k -> new long[4]);
                v[2] = c[0];
                v[3] = c[1];
            });
        } catch (Nft.NftException e) {
            log.debug("counters not read before the rebuild: {}", e.getMessage());
        }
        return out;
    }

    /** Counters of removed elements join the totals; the snapshot that still lists them is dropped. */
    private void retire(Map<Long, long[]> counted) {
        if (counted.isEmpty()) {
            return;
        }
        synchronized (counterLock) {
            for (long[] c : counted.values()) {
                for (int i = 0; i < 4; i++) {
                    retired[i] += c[i];
                }
            }
            elementCounters = new CounterSnapshot(0, Map.of(), Map.of(), Map.of());
            totalsAt = 0;
        }
    }


    /** Deletes the conntrack entries of one mapping's connections, so they stop (cutOnDelete). */
    private static void cut(long mark) {
        try {
            Process p = new ProcessBuilder("conntrack", "-D", "--mark", Long.toString(mark)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            log.debug("conntrack -D --mark {}: {}", KernelRuleset.hex(mark), out);
        } catch (IOException e) {
            log.warn("cannot cut the connections of mark {}: {}", KernelRuleset.hex(mark), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String script(List<Element> elements) {
        return KernelRuleset.table(wan, config.network().wanInterface(), config.network().lanInterfaces(),
                config.dataplane().ipv6Firewall(), cutOnDelete, rules.get(), elements);
    }

    // ---- counters: any thread ----

    @Override
    public Counters totals() {
        if (System.nanoTime() - totalsAt < COUNTER_CACHE_NANOS && totalsAt != 0) {
            return totals;
        }
        synchronized (counterLock) {
            Nft n = counterNft;
            if (n == null || !built || (System.nanoTime() - totalsAt < COUNTER_CACHE_NANOS && totalsAt != 0)) {
                return totals;
            }
            CounterSnapshot s = snapshot();
            if (s.at() == 0) {
                return totals; // not read (logged at DEBUG by snapshot)
            }
            long[] sum = retired.clone();
            s.rx().values().forEach(c -> {
                sum[0] += c[0];
                sum[1] += c[1];
            });
            s.tx().values().forEach(c -> {
                sum[2] += c[0];
                sum[3] += c[1];
            });
            long sessions = s.sessions().values().stream().mapToLong(Integer::longValue).sum();
            Counters next = new Counters(sum[1], sum[3], sum[0], sum[2], sessions);
            // never backwards (a removal between two reads of a busy mapping can only lose its last packets)
            totals = new Counters(Math.max(next.bytesReceived(), totals.bytesReceived()),
                    Math.max(next.bytesSent(), totals.bytesSent()), Math.max(next.packetsReceived(), totals.packetsReceived()),
                    Math.max(next.packetsSent(), totals.packetsSent()), sessions);
            totalsAt = System.nanoTime();
            return totals;
        }
    }

    @Override
    public Counters of(MappingKey key) {
        Entry e = installed.get(key);
        if (e == null) {
            return Counters.ZERO;
        }
        CounterSnapshot s = snapshot();
        long[] rx = s.rx().getOrDefault(e.element().mark(), new long[2]);
        long[] tx = s.tx().getOrDefault(e.element().mark(), new long[2]);
        return new Counters(rx[1], tx[1], rx[0], tx[0], s.sessions().getOrDefault(e.element().mark(), 0));
    }

    private CounterSnapshot snapshot() {
        CounterSnapshot s = elementCounters;
        if (s.at() != 0 && System.nanoTime() - s.at() < COUNTER_CACHE_NANOS) {
            return s;
        }
        synchronized (counterLock) {
            s = elementCounters;
            Nft n = counterNft;
            if (n == null || !built || (s.at() != 0 && System.nanoTime() - s.at() < COUNTER_CACHE_NANOS)) {
                return s;
            }
            try {
                s = new CounterSnapshot(System.nanoTime(), elementCounters(n, "rx"), elementCounters(n, "tx"), sessions());
                elementCounters = s;
            } catch (Nft.NftException e) {
                log.debug("cannot read the nftables counters: {}", e.getMessage());
            }
            return s;
        }
    }

    /**
     * The conntrack entries of natgw's mapped flows by mark (one {@code conntrack -L} for every mapping, filtered by
     * the {@link KernelRuleset#MAPPED} bit): a mapping's sessions are its connections the kernel tracks now, closing
     * ones (TIME_WAIT) included. Empty when conntrack cannot be read (then logged at DEBUG).
     */
    private static Map<Long, Integer> sessions() {
        Map<Long, Integer> out = new HashMap<>();
        try {
            Process p = new ProcessBuilder("conntrack", "-L", "--mark", KernelRuleset.hex(KernelRuleset.MAPPED) + "/"
                    + KernelRuleset.hex(KernelRuleset.MAPPED)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                    java.nio.charset.StandardCharsets.US_ASCII))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    Matcher m = CT_MARK.matcher(line);
                    if (m.find()) {
                        out.merge(Long.parseLong(m.group(1)), 1, Integer::sum);
                    }
                }
            }
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        } catch (IOException | RuntimeException e) {
            log.debug("cannot read conntrack's sessions: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }

    private static Map<Long, long[]> elementCounters(Nft nft, String set) throws Nft.NftException {
        Map<Long, long[]> out = new HashMap<>();
        Matcher m = ELEM_COUNTER.matcher(nft.json("list set inet " + KernelRuleset.TABLE + " " + set));
        while (m.find()) {
            out.put(Long.parseLong(m.group(1)), new long[] {Long.parseLong(m.group(2)), Long.parseLong(m.group(3))});
        }
        return out;
    }

    /** Triggered mappings whose counters moved since the last poll carried incoming traffic: their leases renew. */
    private void pollTriggered() {
        try {
            List<Entry> triggered = installed.values().stream().filter(e -> e.element().triggered()).toList();
            if (triggered.isEmpty()) {
                trxSeen.clear();
                return;
            }
            Map<Long, long[]> now;
            synchronized (counterLock) {
                Nft n = counterNft;
                if (n == null || !built) {
                    return;
                }
                now = elementCounters(n, "trx");
            }
            Map<Long, Long> next = new HashMap<>();
            for (Entry e : triggered) {
                long mark = e.element().mark();
                long[] c = now.get(mark);
                if (c == null) {
                    continue;
                }
                next.put(mark, c[0]);
                Long last = trxSeen.get(mark);
                if (c[0] > (last == null ? 0 : last)) {
                    incomingTraffic.accept(e.mapping());
                }
            }
            trxSeen.clear();
            trxSeen.putAll(next);
        } catch (Nft.NftException | RuntimeException e) {
            log.debug("triggered mappings' counters not read: {}", e.toString());
        }
    }

    /** Removes natgw's table (a clean stop: nothing of natgw stays in the kernel). */
    @Override
    public synchronized void close() {
        cutter.shutdown();
        if (poller != null) {
            poller.shutdownNow();
        }
        if (nft == null) {
            return;
        }
        if (built) {
            if (!pending.isEmpty()) {
                retire(read(nft, pending.keySet())); // the last totals keep them (the table goes with them)
                pending.clear();
            }
            try {
                nft.run("delete table inet " + KernelRuleset.TABLE);
                log.info("nftables table inet {} removed", KernelRuleset.TABLE);
            } catch (Nft.NftException e) {
                log.warn("cannot remove nftables table inet {}: {}", KernelRuleset.TABLE, e.getMessage());
            }
        }
        nft.close();
        nft = null;
        if (netlink != null) {
            netlink.close();
            netlink = null;
        }
        synchronized (counterLock) {
            if (counterNft != null) {
                counterNft.close();
                counterNft = null;
            }
            if (counterNetlink != null) {
                counterNetlink.close();
                counterNetlink = null;
            }
        }
        installed.clear();
        built = false;
    }

    /**
     * One transaction of element changes: over netlink when it can go there (plain keys, a batch that fits), else
     * through libnftables. Under this object's lock, on the writer (or a retirement pass holding the lock).
     */
    private void run(KernelRuleset.Transaction t) throws Nft.NftException {
        java.util.List<NftNetlink.SetChange> changes = t.netlinkChanges();
        if (netlink == null || changes == null || NftNetlink.size(KernelRuleset.TABLE, changes) > NftNetlink.MAX_BATCH) {
            nft.run(t.text());
            viaLibnftables.increment();
            return;
        }
        observer.accept(t.text());
        try {
            netlink.apply(KernelRuleset.TABLE, changes);
            viaNetlink.increment();
        } catch (NftNetlink.NetlinkException e) {
            if (e.outcomeUnknown()) {
                // the kernel may have applied it: what is installed is not known, so the next apply rebuilds it all
                built = false;
            }
            throw new Nft.NftException("nf_tables: " + e.getMessage());
        }
    }

    /** Tells {@code observer} every script the writer runs from now on, by either path (tests count them). */
    public synchronized void observeCommands(java.util.function.Consumer<String> observer) {
        this.observer = java.util.Objects.requireNonNull(observer);
        if (nft != null) {
            nft.observe(observer);
        }
    }

    /**
     * How many element transactions went over netlink and how many through libnftables (whole-table installs,
     * filtered mappings' changes, large batches) since start: {@code [netlink, libnftables]}.
     */
    public long[] transactions() {
        return new long[] {viaNetlink.sum(), viaLibnftables.sum()};
    }

    /**
     * How removed elements' counters were read since start: {@code [by key over netlink, by listing the sets]}.
     */
    public long[] counterReads() {
        return new long[] {counterReads.sum(), counterListings.sum()};
    }

}
