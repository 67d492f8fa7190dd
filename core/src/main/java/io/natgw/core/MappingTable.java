package io.natgw.core;

import io.natgw.conf.NatgwConfig;
import io.natgw.conf.StaticMapping;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The one mapping table: the single source of truth every front-end translates onto.
 *
 * <p>All mutations go through one writer thread. It takes every request waiting in its queue as one batch and
 * <ol>
 *   <li><b>applies</b> each through the {@link Funnel} (rules, dataplane {@link Forwarder#prepare}) in isolation:
 *       a request that fails in any way, an unchecked exception included, has its own changes undone and is
 *       refused, and the others go on;</li>
 *   <li><b>makes the batch durable or reverts it</b>: {@link Forwarder#flush} once and one
 *       {@link LeaseStore#commit} (group commit: one sync for all), at once (the commit on the journal thread) when
 *       the forwarder's flush is a kernel transaction ({@link Forwarder#flushesBatches}). If the dataplane fails,
 *       the batch is undone and refused (and, if the journal recorded it, taken back there by a compensating batch).
 *       If the journal fails, the batch is undone, its grants are refused ({@link Outcome.Reason#UNAVAILABLE}:
 *       nothing is acknowledged that is not durable) and its removals applied again:
 *       removals and expiry always take effect at once (a full disk fails closed) and are journaled first by the
 *       next commit that succeeds; the expiry timer retries every second, so writes resume by themselves;</li>
 *   <li><b>publishes</b> the rows to readers, tells the listeners, and completes the callers' futures.</li>
 * </ol>
 *
 * <p>Futures complete on the writer thread: callbacks must be quick and must not wait on the table.
 */
public final class MappingTable implements AutoCloseable {

    static final Logger LOG = LoggerFactory.getLogger(MappingTable.class);

    /** The owner of mappings from the configuration file. */
    public static final Owner CONFIG_OWNER = Owner.of(InetAddress.getLoopbackAddress(), Origin.CONFIG);

    private static final int MAX_BATCH = 1024;
    /**
     * How long the writer polls its queue after a batch before it parks. A sequential client's next request comes
     * 60-150 µs after its answer (its own round trip and the event loop's read); a parked writer then takes a wake-up
     * of 40-50 µs, more on two busy cores, before it starts. Polling for a while costs at most this much CPU per batch
     * and nothing at all when no request comes (bench/README.md, round 5). The poll yields its core ({@link Thread#yield})
     * rather than spinning, so that on a busy machine the threads that bring the next request run first (round 14).
     */
    private static final long POLL_BEFORE_PARK_NANOS = 200_000;
    /**
     * How long the writer polls for the journal's commit, which runs beside the kernel's transaction, before it
     * parks (the fsync takes 0.12-0.3 ms; the transaction 0.08 ms).
     */
    private static final long POLL_FOR_COMMIT_NANOS = 400_000;

    /** Replaced by {@link #reconfigure} (a reload); the listeners and the dataplane keep what they were built with. */
    private volatile NatgwConfig config;
    private final LeaseStore store;
    private final Forwarder forwarder;
    private final Clock clock;
    private final TableState state;
    private volatile Budgets.MaxMappings maxMappings;
    private final Policy policy;
    private final Funnel funnel;
    private final TableStats stats = new TableStats();
    private final List<TableListener> listeners = new CopyOnWriteArrayList<>();
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();

    private final ConcurrentSkipListMap<MappingKey, Mapping> committed = new ConcurrentSkipListMap<>();
    private final ReentrantReadWriteLock viewLock = new ReentrantReadWriteLock();
    private volatile long version;
    /** {@link #committed}'s size, kept by {@link #publish} (a skip list counts its entries one by one). */
    private volatile int committedCount;
    /** Of {@link #committedCount}, the NAT port mappings (not pinholes). */
    private volatile int committedPortMappings;
    private volatile TableView cachedView = new TableView(List.of(), 0);

    private volatile InetAddress externalAddress;
    private volatile Instant epochStart;
    private volatile Instant nextExpiry;
    private volatile boolean running;
    /** Guards {@link #running} with the queueing of work, so nothing is queued after the writer's last look. */
    private final Object lifecycle = new Object();
    private boolean closed;
    /**
     * Removals applied while the journal could not write, and the inverse of batches it recorded that the dataplane
     * then refused (when the compensating commit failed too); journaled first by the next commit. Writer thread.
     */
    private final List<Change> unjournaled = new ArrayList<>();
    /** Whether {@link #unjournaled} holds anything: the expiry timer then retries the journal every second. */
    private volatile boolean journalBehind;
    /** Why the journal last failed, while it fails; null when it writes. */
    private volatile String journalProblem;
    private Thread writer;
    private ScheduledExecutorService ticker;
    /** Runs the journal commit beside {@link Forwarder#flush} ({@link #makeDurableOrRevert}); writer thread, lazily. */
    private ExecutorService journaler;

    /** What start-up found: restored rows, leases dropped as expired, rows the dataplane could not re-open. */
    public record Startup(int restored, int expiredDropped, int restoreFailed, boolean epochContinued) {
    }

    private sealed interface Work permits Request, Expire, Stop {
    }

    private record Request(MappingRequest request) implements Work {
    }

    private record Expire() implements Work {
    }

    private record Stop() implements Work {
    }

    private record Pending(Work work, CompletableFuture<Outcome> future) {
    }

    public MappingTable(NatgwConfig config, LeaseStore store, Forwarder forwarder, Clock clock) {
        this.config = config;
        this.store = store;
        this.forwarder = forwarder;
        this.clock = clock;
        this.state = new TableState(config.limits()::subnetOf);
        this.maxMappings = Budgets.maxMappings(config.limits(), holdsDescriptors(config), Budgets.openFilesLimit());
        this.policy = new Policy(config, maxMappings.value(), this::externalAddress);
        this.funnel = new Funnel(state, policy, forwarder);
        this.externalAddress = config.network().wanAddress();
    }

    /** Whether each mapping holds descriptors: the relays' listeners do, kernel forwarding's nftables elements do not. */
    private static boolean holdsDescriptors(NatgwConfig config) {
        return config.dataplane().enabled() && !config.dataplane().kernelForwarding();
    }

    /** Registers a listener for committed changes. Call before {@link #start()} to see restored rows. */
    public void addListener(TableListener listener) {
        listeners.add(listener);
    }

    /** Stops delivering changes to a listener (a front-end that closes while the table goes on). */
    public void removeListener(TableListener listener) {
        listeners.remove(listener);
    }

    /**
     * Restores what the store kept (dropping expired leases), re-opens each row in the dataplane, applies the
     * configuration's static mappings, and starts the writer and the expiry timer.
     */
    public Startup start() throws IOException {
        if (maxMappings.clamped()) {
            LOG.warn(maxMappings.why());
        } else {
            LOG.info(maxMappings.why());
        }
        Instant now = clock.instant();
        LeaseStore.Recovered recovered = store.recover(now);
        // RFC 6887 §8.5, RFC 6886 §3.6: the epoch continues only if state was kept on the same external address; a
        // journal recorded on another address (the WAN changed while natgw was down) starts a new one, so clients re-map.
        InetAddress recordedOn = recovered.externalAddress();
        boolean moved = recovered.epochStart() != null && recordedOn != null && !recordedOn.equals(externalAddress);
        boolean continued = recovered.epochStart() != null && !moved;
        epochStart = continued ? recovered.epochStart() : now;
        if (moved) {
            LOG.info("external address changed from {} to {} while natgw was stopped; the NAT-PMP/PCP epoch restarts",
                    recordedOn.getHostAddress(), externalAddress.getHostAddress());
        }
        store.recordState(epochStart, externalAddress);

        List<Change> restored = new ArrayList<>();
        List<Change> lost = new ArrayList<>();
        for (Mapping m : recovered.mappings()) {
            if (!funnel.restore(m, restored)) {
                lost.add(Change.removed(m, Change.Cause.RESTORED));
                LOG.warn("dropped restored {} {}: {}", m.pinhole() ? "pinhole" : "mapping", m,
                        m.pinhole() && !forwarder.forwardsPinholes() ? "this dataplane does not forward pinholes (only"
                                + " linux-gateway mode with kernel forwarding does)" : "its port cannot be served any more");
            }
        }
        if (!lost.isEmpty()) {
            store.commit(lost);
        }
        publish(restored);
        notifyListeners(restored);
        nextExpiry = state.nextExpiry();
        LOG.info("restored {} mappings ({} expired{})", restored.size(), recovered.expiredDropped(),
                lost.isEmpty() ? "" : ", " + lost.size() + " could not be re-opened");

        running = true;
        writer = new Thread(this::writeLoop, "natgw-table-writer");
        writer.setDaemon(true);
        writer.start();
        ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "natgw-table-expiry");
            t.setDaemon(true);
            return t;
        });
        ticker.scheduleWithFixedDelay(this::expireIfDue, 1, 1, TimeUnit.SECONDS);

        reconcile(config); // no drift: the file's static mappings and today's rules, not the journal's, are in force
        return new Startup(restored.size(), recovered.expiredDropped(), lost.size(), continued);
    }

    /** What a reconciliation with the configuration did (at start and on reload). */
    public record Reconciled(int staleStaticRemoved, int staticApplied, int staticRefused, int leasesRefused) {
    }

    /**
     * Makes the table follow {@code next} (a reload: its rules, limits, lifetimes and static mappings apply from now
     * on), then reconciles the rows with it. Keys that live in the listeners or the table's layout (network, ports,
     * dataDir, dataplane, subnet prefixes) are the caller's to keep as they were. Never from the writer thread.
     */
    public Reconciled reconfigure(NatgwConfig next) {
        Budgets.MaxMappings max = Budgets.maxMappings(next.limits(), holdsDescriptors(next), Budgets.openFilesLimit());
        if (max.value() != maxMappings.value()) {
            LOG.info(max.why());
        }
        maxMappings = max;
        policy.reconfigure(next, max.value());
        config = next;
        return reconcile(next);
    }

    /**
     * Applies the static mappings {@code cfg} lists, removes the configuration's static mappings it no longer lists
     * as they are, and removes the leases its rules refuse: each removal journaled and evented through the funnel,
     * with one INFO line saying why (besides the table's "unmapped" line). A lease a client refreshes between the
     * snapshot and the removal is left alone (a narrow race on reload; the next reload or start checks it again).
     */
    private Reconciled reconcile(NatgwConfig cfg) {
        int[] applied = applyStaticMappings(cfg); // listed entries are refreshed in place: the port is never free between
        List<Mapping> stale = Reconciliation.staleStatic(cfg, view().mappings());
        for (Mapping m : stale) {
            LOG.info("removing static mapping {} {} -> {}: no longer in {}", m.protocol().label(), m.externalPort(),
                    m.internal(), cfg.source());
        }
        int removedStale = removeExactly(stale, "static mappings no longer in " + cfg.source());
        java.util.Map<Mapping, String> refused = Reconciliation.refused(policy, view().mappings());
        refused.forEach((m, why) -> LOG.info("removing {} {} -> {} of {}: the rules in force refuse it: {}",
                m.protocol().label(), m.externalPort(), m.internal(), m.owner(), why));
        int removedLeases = removeExactly(List.copyOf(refused.keySet()), "leases the rules in force refuse");
        return new Reconciled(removedStale, applied[0], applied[1], removedLeases);
    }

    /** Deletes these rows as they are (a row refreshed or replaced since the snapshot is left alone). */
    private int removeExactly(List<Mapping> rows, String what) {
        if (rows.isEmpty()) {
            return 0;
        }
        java.util.Set<Mapping> chosen = java.util.Set.copyOf(rows);
        Outcome o = apply(new MappingRequest.DeleteMatching(CONFIG_OWNER, what, chosen::contains));
        if (o instanceof Outcome.Deleted d) {
            return d.removed().size();
        }
        LOG.warn("could not remove {}: {}", what, o);
        return 0;
    }

    /** Returns {applied, refused}. */
    private int[] applyStaticMappings(NatgwConfig config) {
        int ok = 0;
        int failed = 0;
        for (StaticMapping s : config.staticMappings()) {
            MappingRequest.Map r = new MappingRequest.Map(CONFIG_OWNER, s.protocol(),
                    new Endpoint(s.internalAddress(), s.internalPort()), s.externalPort(), RemoteFilter.ANY,
                    Duration.ZERO, Kind.STATIC, s.description(), "", MappingRequest.OnConflict.FAIL, s.enabled(), false);
            Outcome o = apply(r);
            if (o instanceof Outcome.Refused refused) {
                failed++;
                LOG.warn("static mapping {} {} from {} not applied: {}", s.protocol().label(), s.externalPort(),
                        config.source(), refused.detail());
            } else {
                ok++;
            }
        }
        return new int[] {ok, failed};
    }

    /** Queues a request; the future completes once its change is durable (or it was refused). Never blocks. */
    public CompletableFuture<Outcome> submit(MappingRequest request) {
        return enqueue(new Request(request));
    }

    /** Submits and waits. Never call from an event loop or from a table callback. */
    public Outcome apply(MappingRequest request) {
        return submit(request).join();
    }

    /** Runs expiry now (the timer does this every second); completes with the number of leases removed. */
    public CompletableFuture<Integer> expireDue() {
        return enqueue(new Expire()).thenApply(o -> o instanceof Outcome.Deleted d ? d.removed().size() : 0);
    }

    private CompletableFuture<Outcome> enqueue(Work work) {
        CompletableFuture<Outcome> f = new CompletableFuture<>();
        synchronized (lifecycle) {
            if (running) {
                queue.add(new Pending(work, f));
                return f;
            }
        }
        f.complete(new Outcome.Refused(Outcome.Reason.UNAVAILABLE, "the mapping table is not running"));
        return f;
    }

    /** A consistent snapshot of the committed rows in listing order. Cheap when nothing changed since the last call. */
    public TableView view() {
        TableView v = cachedView;
        if (v.version() == version) {
            return v;
        }
        viewLock.readLock().lock();
        try {
            v = new TableView(new ArrayList<>(committed.values()), version);
        } finally {
            viewLock.readLock().unlock();
        }
        cachedView = v;
        return v;
    }

    /**
     * How many rows are committed (pinholes included), without building a view: {@link #view()} copies every row
     * when the table changed since its last call, which a reader asking only for the count (IGD's evented
     * PortMappingNumberOfEntries, read on every change) should not pay for.
     */
    public int size() {
        return committedCount;
    }

    /** How many committed rows are port mappings (pinholes left out), without building a view (UPnP's count). */
    public int portMappingCount() {
        return committedPortMappings;
    }

    /** The committed version, as {@link TableView#version()} of a view taken now, without building one. */
    public long version() {
        return version;
    }

    /** One committed row, without building a view. */
    public Optional<Mapping> find(MappingKey key) {
        return Optional.ofNullable(committed.get(key));
    }

    public InetAddress externalAddress() {
        return externalAddress;
    }

    /**
     * Whether the forwarder forwards IPv6 pinholes ({@link Forwarder#forwardsPinholes()}): when it does not, every
     * pinhole request is refused with {@link Outcome.Reason#PINHOLES_DISABLED}. Front-ends tell clients (IGD:2
     * FirewallEnabled, InboundPinholeAllowed).
     */
    public boolean forwardsPinholes() {
        return forwarder.forwardsPinholes();
    }

    /** When the NAT-PMP/PCP epoch began; continuous across restarts that restored state. */
    public Instant epochStart() {
        return epochStart;
    }

    /** Seconds since the epoch start (RFC 6886 §3.6 "Seconds Since Start of Epoch", RFC 6887 §8.5). */
    public long epochSeconds() {
        return Math.max(0, Duration.between(epochStart, clock.instant()).getSeconds());
    }

    public Clock clock() {
        return clock;
    }

    public NatgwConfig config() {
        return config;
    }

    /** The most rows the table holds (limits.maxMappings as applied: see {@link Budgets}). */
    public int maxMappings() {
        return maxMappings.value();
    }

    /** The writer thread, for tests that disturb it. */
    Thread writerThread() {
        return writer;
    }

    /** Whether removals wait to be journaled because the journal could not write. */
    public boolean journalBehind() {
        return journalBehind;
    }

    public TableStats stats() {
        return stats;
    }

    // ---- the writer ----

    private void writeLoop() {
        List<Pending> batch = new ArrayList<>();
        boolean stop = false;
        while (!stop) {
            try {
                batch.add(next());
            } catch (InterruptedException e) {
                // Nobody may leave callers waiting: stop accepting first, then answer what is queued.
                LOG.error("the mapping table writer was interrupted; the table stops accepting requests");
                synchronized (lifecycle) {
                    running = false;
                }
                break;
            }
            queue.drainTo(batch, MAX_BATCH - 1);
            for (int i = 0; i < batch.size() && !stop; i++) {
                stop = batch.get(i).work() instanceof Stop;
            }
            try {
                process(batch);
            } catch (RuntimeException | Error e) {
                // Only a bug gets here (each step isolates its own failures); callers hear it, the writer goes on.
                LOG.error("mapping table writer failed on a batch of {}", batch.size(), e);
                for (Pending p : batch) {
                    p.future().completeExceptionally(e);
                }
            }
            batch.clear();
        }
        for (Pending p; (p = queue.poll()) != null; ) {
            p.future().complete(new Outcome.Refused(Outcome.Reason.UNAVAILABLE, "the mapping table is closed"));
        }
        if (journaler != null) {
            journaler.shutdown();
        }
    }

    /** The next work: polled for {@link #POLL_BEFORE_PARK_NANOS} (yielding the core meanwhile), then waited for. */
    private Pending next() throws InterruptedException {
        Pending first = queue.poll();
        if (first == null) {
            long until = System.nanoTime() + POLL_BEFORE_PARK_NANOS;
            while ((first = queue.poll()) == null && System.nanoTime() - until < 0) {
                Thread.yield();
            }
        }
        return first != null ? first : queue.take();
    }

    /** What applying a batch did: the changes in order, each request's outcome, an address to record. */
    private static final class Applied {
        final List<Change> changes = new ArrayList<>();
        final Outcome[] outcomes;
        InetAddress newAddress;
        int addressRequest = -1;

        Applied(int size) {
            outcomes = new Outcome[size];
        }
    }

    /** Writer thread: applies a batch, makes it durable (or reverts what cannot be), then publishes and answers. */
    private void process(List<Pending> batch) {
        Instant now = clock.instant();
        Applied applied = apply(batch, now, false);
        makeDurableOrRevert(batch, applied, now);
        publishAndAnswer(batch, applied, now);
    }

    /**
     * Writer thread: runs each request through the funnel in its own isolation: a request that throws (a
     * dataplane out of descriptors, a bug) has its own changes undone and is refused, and the others go on.
     * With {@code removalsOnly}, requests that could grant anything are refused (the journal cannot write).
     */
    private Applied apply(List<Pending> batch, Instant now, boolean removalsOnly) {
        Applied a = new Applied(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            Work w = batch.get(i).work();
            int from = a.changes.size();
            try {
                if (w instanceof Request r && r.request() instanceof MappingRequest.SetExternalAddress s) {
                    if (!s.requester().privileged()) {
                        a.outcomes[i] = new Outcome.Refused(Outcome.Reason.NOT_AUTHORIZED, "only admins set the external address");
                    } else if (removalsOnly) {
                        a.outcomes[i] = journalDown();
                    } else {
                        a.newAddress = s.address();
                        a.addressRequest = i;
                        a.outcomes[i] = new Outcome.Done();
                    }
                } else if (w instanceof Request r) {
                    a.outcomes[i] = removalsOnly && r.request() instanceof MappingRequest.Map
                            ? journalDown() : funnel.apply(r.request(), now, a.changes);
                } else if (w instanceof Expire) {
                    funnel.expire(now, a.changes);
                    a.outcomes[i] = new Outcome.Deleted(a.changes.subList(from, a.changes.size()).stream()
                            .map(Change::before).toList());
                } else {
                    a.outcomes[i] = new Outcome.Done();
                }
            } catch (RuntimeException e) {
                LOG.error("request {} failed and was undone: {}", describe(w), e.toString());
                revert(a.changes, from);
                a.outcomes[i] = new Outcome.Refused(Outcome.Reason.NO_RESOURCES,
                        "the gateway failed to apply the request (" + e + "); nothing was changed");
            }
        }
        return a;
    }

    private Outcome.Refused journalDown() {
        return new Outcome.Refused(Outcome.Reason.UNAVAILABLE,
                "the lease journal cannot be written (" + journalProblem + "); only removals are taken until it can");
    }

    /**
     * Writer thread: the dataplane applies the batch ({@link Forwarder#flush}) and the journal records it together
     * with any changes it could not record before; the yes waits for both. When the forwarder's flush is real work (a
     * kernel transaction, {@link Forwarder#flushesBatches}) the journal thread commits while this thread flushes, so
     * a batch costs the longer of the two, not their sum (the forwarder stays on this thread). Either failure leaves
     * the table, the journal and the forwarding as they were:
     * <ul>
     *   <li>the dataplane fails, the journal wrote: the batch is undone and refused, and the journal gets the inverse
     *       of each change (a compensating batch) before the answer; if that commit fails, the inverse waits with the
     *       removals the journal could not record, journaled first by the next commit that succeeds (the table fails
     *       closed until then, as on any journal failure);</li>
     *   <li>the journal fails (whatever the dataplane did): the batch is undone ({@link Forwarder#abort} puts the
     *       previous elements back) and its removals alone are applied again: they take effect at once (fail closed)
     *       and are journaled as soon as the journal can write again.</li>
     * </ul>
     */
    private void makeDurableOrRevert(List<Pending> batch, Applied a, Instant now) {
        List<Change> toJournal = a.changes;
        if (!unjournaled.isEmpty()) {
            toJournal = new ArrayList<>(unjournaled);
            toJournal.addAll(a.changes);
        }
        Future<Exception> committing = null;
        if (!a.changes.isEmpty() && forwarder.flushesBatches()) {
            List<Change> records = toJournal;
            committing = journal().submit(() -> commitJournal(records));
        }
        Exception flushFailed = null;
        if (!a.changes.isEmpty()) {
            flushFailed = flushForwarder();
            if (flushFailed != null && committing == null) {
                refuseForwarding(a, flushFailed); // nothing was journaled
                return;
            }
        }
        Exception journalFailed;
        if (committing != null) {
            journalFailed = awaitCommit(committing); // before anything is undone or journaled again
        } else {
            journalFailed = toJournal.isEmpty() ? null : commitJournal(toJournal);
        }
        if (journalFailed != null) {
            journalFailed(journalFailed, a.changes.size());
            refuseAll(a, null);
            Applied removals = apply(batch, now, true);
            if (!removals.changes.isEmpty()) {
                try {
                    forwarder.flush(); // the removals take effect at once, in the kernel too
                } catch (Forwarder.ForwardingException | RuntimeException f) {
                    LOG.error("the dataplane did not take {} removals in one batch (they reach it as committed "
                            + "changes): {}", removals.changes.size(), f.getMessage());
                }
            }
            a.changes.addAll(removals.changes);
            System.arraycopy(removals.outcomes, 0, a.outcomes, 0, a.outcomes.length);
            unjournaled.addAll(removals.changes);
            journalBehind = !unjournaled.isEmpty();
            return;
        }
        if (!toJournal.isEmpty()) {
            stats.countBatch();
            unjournaled.clear();
            journalRecovered();
        }
        if (flushFailed != null) {
            List<Change> inverse = inverse(a.changes); // journaled: taken back durably before the refusal
            refuseForwarding(a, flushFailed);
            // the last commit was this batch alone (no earlier removals journaled with it): it can be erased instead
            compensate(inverse, toJournal == a.changes);
            return;
        }
        if (a.newAddress != null && !a.newAddress.equals(externalAddress)) {
            try {
                // RFC 6887 §8.5, RFC 6886 §3.6: a new external address starts a new epoch (clients re-map).
                store.recordState(now, a.newAddress);
            } catch (IOException | RuntimeException e) {
                LOG.error("external address {} not recorded: the journal failed: {}", a.newAddress.getHostAddress(), e.getMessage());
                a.outcomes[a.addressRequest] = new Outcome.Refused(Outcome.Reason.UNAVAILABLE,
                        "the lease journal cannot be written: " + e.getMessage());
                a.newAddress = null;
            }
        }
    }

    /** Writer thread: {@link Forwarder#flush}; returns its failure, or null. */
    private Exception flushForwarder() {
        try {
            forwarder.flush();
            return null;
        } catch (Forwarder.ForwardingException | RuntimeException e) {
            return e;
        }
    }

    /** {@link LeaseStore#commit}; returns its failure, or null. On the writer thread or the journal thread. */
    private Exception commitJournal(List<Change> records) {
        try {
            store.commit(records);
            return null;
        } catch (IOException | RuntimeException e) {
            return e;
        }
    }

    /**
     * Writer thread: the journal thread's result (its failure, or null): polled for {@link #POLL_FOR_COMMIT_NANOS},
     * yielding the core meanwhile, then waited for, even if interrupted.
     */
    private static Exception awaitCommit(Future<Exception> committing) {
        long until = System.nanoTime() + POLL_FOR_COMMIT_NANOS;
        while (!committing.isDone() && System.nanoTime() - until < 0) {
            Thread.yield();
        }
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return committing.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    return new IllegalStateException(String.valueOf(e.getCause()), e.getCause()); // an Error: a bug
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Writer thread: the journal thread, started on first use (a forwarder whose flush does real work). */
    private ExecutorService journal() {
        if (journaler == null) {
            journaler = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "natgw-table-journal");
                t.setDaemon(true);
                return t;
            });
        }
        return journaler;
    }

    /** Writer thread: the dataplane refused the batch: it is undone and each of its requests refused. */
    private void refuseForwarding(Applied a, Exception e) {
        LOG.error("forwarding failed, {} changes reverted: {}", a.changes.size(), e.getMessage());
        refuseAll(a, "the dataplane could not apply the change: " + e.getMessage());
    }

    /** The changes that take {@code changes} back, newest first (what {@link #revert} does to the state). */
    static List<Change> inverse(List<Change> changes) {
        List<Change> out = new ArrayList<>(changes.size());
        for (int i = changes.size() - 1; i >= 0; i--) {
            Change c = changes.get(i);
            out.add(switch (c.type()) {
                case ADDED -> Change.removed(c.after(), c.cause());
                case REMOVED -> Change.added(c.before(), c.cause());
                case UPDATED -> Change.updated(c.after(), c.before(), c.cause());
            });
        }
        return out;
    }

    /**
     * Writer thread: journals the inverse of a batch the journal recorded but the dataplane refused. If the journal
     * cannot append it, and the batch was the journal's whole last commit ({@code retractable}), the store erases
     * that commit instead ({@link LeaseStore#retract}); if that fails too, the inverse waits in {@link #unjournaled}
     * (journaled first by the next commit that succeeds; the expiry timer retries every second, and so does the last
     * batch before a clean stop) and the table fails closed.
     */
    private void compensate(List<Change> inverse, boolean retractable) {
        if (inverse.isEmpty()) {
            return;
        }
        try {
            store.commit(inverse);
            stats.countBatch();
        } catch (IOException | RuntimeException e) {
            if (retractable) {
                try {
                    store.retract(inverse); // the refused batch erased from the journal: nothing waits
                    LOG.warn("the compensating batch could not be journaled ({}); the refused batch was erased from "
                            + "the journal instead", e.getMessage());
                    return;
                } catch (IOException | RuntimeException again) {
                    e.addSuppressed(again);
                }
            }
            journalFailed(e, inverse.size());
            unjournaled.addAll(inverse);
            journalBehind = true;
        }
    }

    /** Writer thread: the journal failed (first failure at ERROR, repeats while it stays down at DEBUG). */
    private void journalFailed(Exception e, int changes) {
        String problem = e.getMessage() == null ? e.toString() : e.getMessage();
        if (e instanceof RuntimeException) {
            // Not an I/O error but a bug in the store: fail closed all the same, and keep the stack trace.
            LOG.error("journal write failed, {} changes reverted; refusing grants and taking removals until it can write"
                    + " again", changes, e);
        } else if (journalProblem == null) {
            LOG.error("journal write failed, {} changes reverted; refusing grants and taking removals until it can write"
                    + " again: {}", changes, problem);
        } else {
            LOG.debug("journal still failing: {}", problem);
        }
        journalProblem = problem;
    }

    private void journalRecovered() {
        if (journalProblem != null) {
            LOG.info("the journal writes again; the removals made while it could not are journaled");
            journalProblem = null;
        }
        journalBehind = false;
    }

    /** Writer thread: undoes every change of the batch and refuses each request that had not been refused. */
    private void refuseAll(Applied a, String why) {
        revert(a.changes, 0);
        a.newAddress = null;
        if (why == null) {
            return;
        }
        for (int i = 0; i < a.outcomes.length; i++) {
            if (!(a.outcomes[i] instanceof Outcome.Refused)) {
                a.outcomes[i] = new Outcome.Refused(Outcome.Reason.UNAVAILABLE, why);
            }
        }
    }

    /** Writer thread: undoes the changes from index {@code from} on, newest first, in the state and the dataplane. */
    private void revert(List<Change> changes, int from) {
        for (int i = changes.size() - 1; i >= from; i--) {
            Change c = changes.get(i);
            state.revert(c);
            try {
                funnel.abort(c);
            } catch (RuntimeException e) {
                LOG.error("the dataplane failed to undo {}: {}", c.mapping(), e.toString());
            }
        }
        changes.subList(from, changes.size()).clear();
    }

    /** Writer thread: readers see the batch, listeners hear it, callers get their answers. */
    private void publishAndAnswer(List<Pending> batch, Applied a, Instant now) {
        List<Change> changes = a.changes;
        String wan = externalAddress.getHostAddress(); // the address these changes were made on
        nextExpiry = state.nextExpiry();
        int expired = 0;
        for (int i = 0; i < changes.size(); i++) {
            expired += changes.get(i).cause() == Change.Cause.EXPIRED ? 1 : 0;
        }
        stats.countExpired(expired);
        publish(changes);
        notifyListeners(changes);
        InetAddress newAddress = a.newAddress;
        if (newAddress != null && !newAddress.equals(externalAddress)) {
            InetAddress previous = externalAddress;
            externalAddress = newAddress;
            epochStart = now; // recorded with the address (makeDurableOrRevert): listeners announce epoch 0
            LOG.info("external address changed from {} to {}; the NAT-PMP/PCP epoch restarts", previous.getHostAddress(),
                    newAddress.getHostAddress());
            for (TableListener l : listeners) {
                try {
                    l.externalAddressChanged(previous, newAddress);
                } catch (RuntimeException | Error e) {
                    LOG.error("listener {} failed on an address change", l, e);
                }
            }
        }
        for (int i = 0; i < batch.size(); i++) {
            if (batch.get(i).work() instanceof Request r) {
                stats.count(r.request().requester().origin(), a.outcomes[i]);
            }
            batch.get(i).future().complete(a.outcomes[i]);
        }
        // After the answers: the change is durable, forwarded and published already, and its line (formatted and
        // written to stdout on this thread) no longer delays the reply; the writer still logs before its next batch.
        logChanges(changes, wan, now);
    }

    private static String describe(Work w) {
        return w instanceof Request r ? r.request().getClass().getSimpleName() + " from " + r.request().requester()
                : w.getClass().getSimpleName();
    }

    private void publish(List<Change> changes) {
        if (changes.isEmpty()) {
            return;
        }
        viewLock.writeLock().lock();
        try {
            int count = committedCount;
            int ports = committedPortMappings;
            for (Change c : changes) {
                if (c.before() != null && committed.remove(c.before().key()) != null) {
                    count--;
                    ports -= c.before().pinhole() ? 0 : 1;
                }
                if (c.after() != null && committed.put(c.after().key(), c.after()) == null) {
                    count++;
                    ports += c.after().pinhole() ? 0 : 1;
                }
            }
            committedCount = count;
            committedPortMappings = ports;
            version++;
        } finally {
            viewLock.writeLock().unlock();
        }
    }

    private void notifyListeners(List<Change> changes) {
        if (changes.isEmpty()) {
            return;
        }
        List<Change> view = List.copyOf(changes);
        for (TableListener l : listeners) {
            try {
                l.committed(view);
            } catch (RuntimeException | Error e) {
                // The change is durable and applied: a listener's failure is its own, the table goes on.
                LOG.error("listener {} failed on {} changes", l, view.size(), e);
            }
        }
    }

    private static void logChanges(List<Change> changes, String wan, Instant now) {
        for (Change c : changes) {
            Mapping m = c.mapping();
            String via = m.owner().origin().label();
            if (m.pinhole()) {
                logPinhole(c, m, via, now);
                continue;
            }
            switch (c.type()) {
                case ADDED -> LOG.info("mapped {} {}:{} -> {} {} via {}{}", m.protocol().label(), wan, m.externalPort(),
                        m.internal(), m.permanent() ? "permanently" : "for " + m.remaining(now).getSeconds() + "s", via,
                        m.remote().isAny() ? "" : " from " + m.remote());
                case UPDATED -> {
                    if (c.affectsForwarding()) {
                        LOG.info("changed {} {}:{} -> {} ({}) via {}", m.protocol().label(), wan, m.externalPort(),
                                m.internal(), m.enabled() ? "enabled" : "disabled", via);
                    } else if (LOG.isDebugEnabled()) {
                        LOG.debug("refreshed {} {}:{} -> {} for {}s via {}", m.protocol().label(), wan, m.externalPort(),
                                m.internal(), m.permanent() ? 0 : m.remaining(now).getSeconds(), via);
                    }
                }
                case REMOVED -> LOG.info("unmapped {} {}:{} -> {} via {}{}", m.protocol().label(), wan, m.externalPort(),
                        m.internal(), via, c.cause() == Change.Cause.EXPIRED ? " (expired)" : "");
            }
        }
    }

    private static void logPinhole(Change c, Mapping m, String via, Instant now) {
        String filter = m.remote().isAny() ? "" : " from " + m.remote();
        switch (c.type()) {
            case ADDED -> LOG.info("opened pinhole {} {} {} {} via {}{}", m.pinholeId(), m.protocol().label(), m.internal(),
                    m.permanent() ? "permanently" : "for " + m.remaining(now).getSeconds() + "s", via, filter);
            case UPDATED -> {
                if (c.affectsForwarding()) {
                    LOG.info("changed pinhole {} {} {} ({}) via {}", m.pinholeId(), m.protocol().label(), m.internal(),
                            m.enabled() ? "enabled" : "disabled", via);
                } else if (LOG.isDebugEnabled()) {
                    LOG.debug("refreshed pinhole {} {} {} for {}s via {}", m.pinholeId(), m.protocol().label(),
                            m.internal(), m.permanent() ? 0 : m.remaining(now).getSeconds(), via);
                }
            }
            case REMOVED -> LOG.info("closed pinhole {} {} {} via {}{}{}", m.pinholeId(), m.protocol().label(), m.internal(),
                    via, filter, c.cause() == Change.Cause.EXPIRED ? " (expired)" : "");
        }
    }

    private void expireIfDue() {
        Instant due = nextExpiry;
        if (journalBehind || due != null && !clock.instant().isBefore(due)) {
            enqueue(new Expire()); // also retries the journal when removals wait to be written
        }
    }

    /** Stops the writer after the requests already queued, then closes the store. */
    @Override
    public void close() throws IOException {
        CompletableFuture<Outcome> stopped = new CompletableFuture<>();
        synchronized (lifecycle) {
            if (closed || writer == null) {
                return;
            }
            closed = true;
            if (running) {
                queue.add(new Pending(new Stop(), stopped)); // the last work ever queued
                running = false;
            } else {
                stopped.complete(new Outcome.Done()); // the writer stopped on its own (interrupted)
            }
        }
        try {
            stopped.get(30, TimeUnit.SECONDS);
            writer.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.error("the mapping table writer did not stop within 30 s; closing the journal anyway");
        }
        ticker.shutdownNow();
        store.close();
    }
}
