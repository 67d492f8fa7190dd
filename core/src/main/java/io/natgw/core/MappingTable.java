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
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The one mapping table: the single source of truth every front-end translates onto.
 *
 * <p>All mutations go through one writer thread. It takes every request waiting in its queue as one batch,
 * runs each through the {@link Funnel} (rules, dataplane bind), makes the batch durable with one
 * {@link LeaseStore#commit} (group commit: one sync for all), and only then publishes the rows to readers,
 * tells the listeners, and completes the callers' futures. If the store fails, the batch is reverted and
 * every caller hears {@link Outcome.Reason#UNAVAILABLE}: nothing is half-applied.
 *
 * <p>Futures complete on the writer thread: callbacks must be quick and must not wait on the table.
 */
public final class MappingTable implements AutoCloseable {

    static final Logger LOG = LoggerFactory.getLogger(MappingTable.class);

    /** The owner of mappings from the configuration file. */
    public static final Owner CONFIG_OWNER = Owner.of(InetAddress.getLoopbackAddress(), Origin.CONFIG);

    private static final int MAX_BATCH = 1024;

    private final NatgwConfig config;
    private final LeaseStore store;
    private final Forwarder forwarder;
    private final Clock clock;
    private final TableState state = new TableState();
    private final Funnel funnel;
    private final TableStats stats = new TableStats();
    private final List<TableListener> listeners = new CopyOnWriteArrayList<>();
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();

    private final ConcurrentSkipListMap<MappingKey, Mapping> committed = new ConcurrentSkipListMap<>();
    private final ReentrantReadWriteLock viewLock = new ReentrantReadWriteLock();
    private volatile long version;
    private volatile TableView cachedView = new TableView(List.of(), 0);

    private volatile InetAddress externalAddress;
    private volatile Instant epochStart;
    private volatile Instant nextExpiry;
    private volatile boolean running;
    private Thread writer;
    private ScheduledExecutorService ticker;

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
        this.funnel = new Funnel(state, new Policy(config), forwarder);
        this.externalAddress = config.network().wanAddress();
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
        Instant now = clock.instant();
        LeaseStore.Recovered recovered = store.recover(now);
        boolean continued = recovered.epochStart() != null;
        epochStart = continued ? recovered.epochStart() : now;
        store.recordState(epochStart, externalAddress);

        List<Change> restored = new ArrayList<>();
        List<Change> lost = new ArrayList<>();
        for (Mapping m : recovered.mappings()) {
            if (!funnel.restore(m, restored)) {
                lost.add(Change.removed(m, Change.Cause.REQUEST));
                LOG.warn("dropped restored mapping {}: its port cannot be served any more", m);
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

        applyStaticMappings();
        return new Startup(restored.size(), recovered.expiredDropped(), lost.size(), continued);
    }

    private void applyStaticMappings() {
        for (StaticMapping s : config.staticMappings()) {
            MappingRequest.Map r = new MappingRequest.Map(CONFIG_OWNER, s.protocol(),
                    new Endpoint(s.internalAddress(), s.internalPort()), s.externalPort(), RemoteFilter.ANY,
                    Duration.ZERO, Kind.STATIC, s.description(), "", MappingRequest.OnConflict.FAIL, s.enabled(), false);
            Outcome o = apply(r);
            if (o instanceof Outcome.Refused refused) {
                LOG.warn("static mapping {} {} from {} not applied: {}", s.protocol().label(), s.externalPort(),
                        config.source(), refused.detail());
            }
        }
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
        if (!running) {
            f.complete(new Outcome.Refused(Outcome.Reason.UNAVAILABLE, "the mapping table is not running"));
            return f;
        }
        queue.add(new Pending(work, f));
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

    /** One committed row, without building a view. */
    public Optional<Mapping> find(MappingKey key) {
        return Optional.ofNullable(committed.get(key));
    }

    public InetAddress externalAddress() {
        return externalAddress;
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

    public TableStats stats() {
        return stats;
    }

    // ---- the writer ----

    private void writeLoop() {
        List<Pending> batch = new ArrayList<>();
        boolean stop = false;
        while (!stop) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                break;
            }
            queue.drainTo(batch, MAX_BATCH - 1);
            stop = batch.stream().anyMatch(p -> p.work() instanceof Stop);
            try {
                process(batch);
            } catch (RuntimeException | Error e) {
                // A bug (or an Error such as OutOfMemoryError) in one batch must not kill the only writer:
                // its callers hear the failure, the writer goes on, and close() can still drain the queue.
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
    }

    /** Writer thread: applies a batch, makes it durable with one commit, then publishes and answers. */
    private void process(List<Pending> batch) {
        Instant now = clock.instant();
        List<Change> changes = new ArrayList<>();
        Outcome[] outcomes = new Outcome[batch.size()];
        InetAddress newAddress = null;
        for (int i = 0; i < batch.size(); i++) {
            Work w = batch.get(i).work();
            if (w instanceof Request r && r.request() instanceof MappingRequest.SetExternalAddress s) {
                if (s.requester().privileged()) {
                    newAddress = s.address();
                    outcomes[i] = new Outcome.Done();
                } else {
                    outcomes[i] = new Outcome.Refused(Outcome.Reason.NOT_AUTHORIZED, "only admins set the external address");
                }
            } else if (w instanceof Request r) {
                outcomes[i] = funnel.apply(r.request(), now, changes);
            } else if (w instanceof Expire) {
                int from = changes.size();
                int n = funnel.expire(now, changes);
                stats.countExpired(n);
                outcomes[i] = new Outcome.Deleted(changes.subList(from, changes.size()).stream().map(Change::before).toList());
            } else {
                outcomes[i] = new Outcome.Done();
            }
        }
        if (!changes.isEmpty()) {
            try {
                forwarder.flush();
            } catch (Forwarder.ForwardingException | RuntimeException e) {
                LOG.error("forwarding failed, {} changes reverted: {}", changes.size(), e.getMessage());
                revertAll(changes, outcomes, "the dataplane could not apply the change: " + e.getMessage());
            }
        }
        try {
            if (!changes.isEmpty()) {
                store.commit(changes);
                stats.countBatch();
            }
            if (newAddress != null && !newAddress.equals(externalAddress)) {
                store.recordState(epochStart, newAddress);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.error("journal write failed, {} changes reverted: {}", changes.size(), e.getMessage());
            revertAll(changes, outcomes, "the lease journal cannot be written: " + e.getMessage());
            newAddress = null;
        }
        nextExpiry = state.nextExpiry();
        publish(changes);
        logChanges(changes, now);
        notifyListeners(changes);
        if (newAddress != null && !newAddress.equals(externalAddress)) {
            InetAddress previous = externalAddress;
            externalAddress = newAddress;
            LOG.info("external address changed from {} to {}", previous.getHostAddress(), newAddress.getHostAddress());
            for (TableListener l : listeners) {
                try {
                    l.externalAddressChanged(previous, newAddress);
                } catch (RuntimeException e) {
                    LOG.error("listener {} failed on an address change", l, e);
                }
            }
        }
        for (int i = 0; i < batch.size(); i++) {
            if (batch.get(i).work() instanceof Request r) {
                stats.count(r.request().requester().origin(), outcomes[i]);
            }
            batch.get(i).future().complete(outcomes[i]);
        }
    }

    /** Writer thread: undoes every change of the batch and refuses each request that had not been refused. */
    private void revertAll(List<Change> changes, Outcome[] outcomes, String why) {
        for (int i = changes.size() - 1; i >= 0; i--) {
            state.revert(changes.get(i));
            funnel.abort(changes.get(i));
        }
        changes.clear();
        for (int i = 0; i < outcomes.length; i++) {
            if (!(outcomes[i] instanceof Outcome.Refused)) {
                outcomes[i] = new Outcome.Refused(Outcome.Reason.UNAVAILABLE, why);
            }
        }
    }

    private void publish(List<Change> changes) {
        if (changes.isEmpty()) {
            return;
        }
        viewLock.writeLock().lock();
        try {
            for (Change c : changes) {
                if (c.before() != null) {
                    committed.remove(c.before().key());
                }
                if (c.after() != null) {
                    committed.put(c.after().key(), c.after());
                }
            }
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
            } catch (RuntimeException e) {
                LOG.error("listener {} failed on {} changes", l, view.size(), e);
            }
        }
    }

    private void logChanges(List<Change> changes, Instant now) {
        String wan = externalAddress.getHostAddress();
        for (Change c : changes) {
            Mapping m = c.mapping();
            String via = m.owner().origin().label();
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

    private void expireIfDue() {
        Instant due = nextExpiry;
        if (due != null && !clock.instant().isBefore(due)) {
            enqueue(new Expire());
        }
    }

    /** Stops the writer after the requests already queued, then closes the store. */
    @Override
    public void close() throws IOException {
        if (!running) {
            return;
        }
        CompletableFuture<Outcome> stopped = enqueue(new Stop());
        running = false;
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
