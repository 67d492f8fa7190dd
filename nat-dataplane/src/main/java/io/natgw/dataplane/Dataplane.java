package io.natgw.dataplane;

import io.natgw.conf.NatgwConfig;
import io.natgw.conf.Protocol;
import io.natgw.core.Change;
import io.natgw.core.Forwarder;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import io.natgw.core.MappingTable;
import io.natgw.core.TableListener;
import io.natgw.core.TrafficStats;
import io.natgw.dataplane.kernel.KernelForwarder;
import io.natgw.dataplane.kernel.KernelRuleset;
import io.natgw.dataplane.trigger.ConntrackTriggers;
import io.netty.channel.EventLoopGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The dataplane. In linux-gateway mode with {@code dataplane.forwarding: kernel} (the default there) every mapping is
 * forwarded by the kernel ({@link KernelForwarder}: natgw's nftables table) and trigger flows are learnt from
 * conntrack events ({@link ConntrackTriggers}); no relay runs. Otherwise it is the Netty relay: one listener per
 * (protocol, external port) on the external address, relaying to the internal host of each enabled mapping; traffic
 * counters; the trigger engine; and, in linux-gateway mode with {@code forwarding: relay}, the transparent divert of
 * outbound flows to trigger ports. It only reacts to the table: {@link #prepare} binds before a change is
 * made durable (a port held by another process refuses the change), {@link #committed} stops what was removed.
 *
 * <p>Wiring: {@code dp = new Dataplane(cfg, clock); dp.start(); table = new MappingTable(cfg, store, dp, clock);
 * dp.attach(table); table.addListener(dp); table.start(); dp.tableStarted();}
 */
public final class Dataplane implements Forwarder, TableListener, TrafficStats, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Dataplane.class);

    private final NatgwConfig config;
    private final Clock clock;
    private final Transport transport;
    private final RelayTuning tuning;
    private final Meter totals = new Meter(null);
    private final Map<MappingKey, Meter> meters = new ConcurrentHashMap<>();
    /** Listeners by port; changed under this object's lock (the table's writer thread, start and close). */
    private final Map<PortKey, PortListener> listeners = new ConcurrentHashMap<>();
    /** Routes a prepared change displaced; committed() retires them (cut) or abort() puts them back. */
    private final Map<Mapping, Route> displaced = new HashMap<>();
    private final TriggerEngine triggers;
    private EventLoopGroup group;
    private RelayContext ctx;
    /** linux-gateway mode: the transparent divert's own epoll loops (IP_TRANSPARENT needs epoll; mappings need not). */
    private EventLoopGroup divertGroup;
    private MappingTable table;
    private volatile InetAddress externalAddress;
    private volatile TransparentDivert divert;
    /** linux-gateway mode with {@code forwarding: kernel}: nftables forwards every mapping; no relays, no divert. */
    private KernelForwarder kernel;
    private ConntrackTriggers kernelTriggers;

    record PortKey(Protocol protocol, int port) {
        /** Written out: a record's generated equals and hashCode run through method handles, which C1 does not inline (see {@code MappingKey.equals}). */
        @Override
        public boolean equals(Object o) {
            return this == o || o instanceof PortKey k && port == k.port && protocol == k.protocol;
        }

        @Override
        public int hashCode() {
            return protocol.ordinal() * 65536 + port;
        }
    }

    public Dataplane(NatgwConfig config, Clock clock) {
        this(config, clock, RelayTuning.fromSystemProperties());
    }

    Dataplane(NatgwConfig config, Clock clock, RelayTuning tuning) {
        this(config, clock, tuning, config.dataplane().relay() == NatgwConfig.RelayMode.SPLICE
                ? Transport.best() // splice needs epoll
                : Transport.named(tuning.transport()));
    }

    Dataplane(NatgwConfig config, Clock clock, RelayTuning tuning, Transport transport) {
        this.config = config;
        this.tuning = tuning;
        this.clock = clock;
        this.transport = transport;
        this.externalAddress = config.network().wanAddress();
        this.triggers = new TriggerEngine(config.triggers(), clock);
    }

    /** Starts the event loops and, in linux-gateway mode, the divert (which refuses to start if it cannot prove it works). */
    public synchronized void start() {
        if (group != null || kernel != null) {
            return;
        }
        if (config.dataplane().enabled() && config.dataplane().kernelForwarding()) {
            startKernel();
            return;
        }
        group = transport.newGroup(tuning.threads());
        ctx = new RelayContext(transport, group, config.dataplane(), tuning, clock, this::onTraffic);
        log.info("dataplane started: {} transport ({} event loops), {} relay, mode {}, external address {}",
                transport.name(), tuning.threads(),
                TcpRelay.splicing(ctx) ? "splice" : "copy", config.dataplane().mode().name().toLowerCase(java.util.Locale.ROOT),
                externalAddress.getHostAddress());
        if (config.dataplane().relay() == NatgwConfig.RelayMode.SPLICE && !TcpRelay.splicing(ctx)) {
            log.warn("dataplane.relay splice needs the epoll transport ({} is in use): relaying by copy", transport.name());
        }
        if (config.dataplane().mode() == NatgwConfig.DataplaneMode.LINUX_GATEWAY) {
            Transport epoll = transport.epoll() ? transport : Transport.best();
            if (!epoll.epoll()) {
                close();
                throw new IllegalStateException("linux-gateway mode needs the native epoll transport, which did not load");
            }
            RelayContext divertCtx = ctx;
            if (epoll != transport) {
                divertGroup = epoll.newGroup(tuning.threads());
                divertCtx = new RelayContext(epoll, divertGroup, config.dataplane(), tuning, clock, this::onTraffic);
            }
            divert = new TransparentDivert(config, divertCtx, triggers, this::externalAddress);
            triggers.onRulesChanged(divert::rulesChanged);
            try {
                divert.start();
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }
    }

    private void startKernel() {
        kernel = new KernelForwarder(config, externalAddress, triggers::rules, triggers::incomingTraffic);
        try {
            kernel.start();
        } catch (RuntimeException e) {
            kernel = null;
            throw e;
        }
        kernelTriggers = new ConntrackTriggers(triggers, a -> config.network().isLanClient(a), KernelRuleset.TRIGGER);
        ConntrackTriggers events = kernelTriggers;
        triggers.onRulesChanged(rules -> {
            kernel.rulesChanged(rules);
            try {
                events.follow(rules); // conntrack -E runs only while a rule is enabled
            } catch (RuntimeException e) {
                log.error("port triggering does not see new trigger flows: {}", e.getMessage());
            }
        });
        try {
            kernelTriggers.follow(triggers.rules());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        log.info("dataplane started: mode linux-gateway, kernel forwarding (nftables), external address {}",
                externalAddress.getHostAddress());
    }

    /** Whether mappings are forwarded by the kernel (linux-gateway mode, {@code dataplane.forwarding: kernel}). */
    public boolean kernelForwarding() {
        return kernel != null;
    }

    /**
     * IPv6 pinholes are forwarded by kernel forwarding only (elements of natgw's nftables table). The relays bind
     * the IPv4 WAN address and translate, which a pinhole must not: in userspace mode and with
     * {@code forwarding: relay} the table refuses every pinhole request instead of granting one that forwards
     * nothing.
     */
    @Override
    public boolean forwardsPinholes() {
        return kernel != null;
    }

    /**
     * The table has started (restored its leases): kernel forwarding installs its table now if no change did
     * (a restart whose every lease expired meanwhile). Call after {@code table.start()}; nothing in userspace mode.
     *
     * @throws IllegalStateException when the table cannot be installed
     */
    public void tableStarted() {
        KernelForwarder k = kernel;
        if (k != null) {
            k.tableStarted();
        }
    }

    /** The table the trigger engine submits to; call before {@code table.start()}. */
    public void attach(MappingTable table) {
        this.table = table;
        this.externalAddress = table.externalAddress();
        triggers.attach(table);
    }

    public TriggerEngine triggers() {
        return triggers;
    }

    public InetAddress externalAddress() {
        return externalAddress;
    }

    // ---- Forwarder: the table's writer thread ----

    @Override
    public synchronized void prepare(Change change) throws ForwardingException {
        if (kernel != null) {
            kernel.prepare(change);
            return;
        }
        if (!relaying()) {
            return;
        }
        Mapping after = change.after();
        if (after == null || !after.enabled()) {
            return; // removals and disabling take effect once committed
        }
        if (after.pinhole()) {
            // the table refuses pinholes when forwardsPinholes() is false; never relay one as if it were a NAT mapping
            throw new ForwardingException("IPv6 pinholes need linux-gateway mode with kernel forwarding: " + after, null);
        }
        if (change.type() == Change.Type.UPDATED && !change.affectsForwarding()) {
            return;
        }
        PortListener l = listenerFor(after.protocol(), after.externalPort());
        Route previous = l.put(new Route(after, meterOf(after.key())));
        if (previous != null && !previous.mapping.equals(after)) {
            displaced.put(previous.mapping, previous);
        }
        if (change.type() == Change.Type.UPDATED && change.before() != null
                && !change.before().key().equals(after.key())) {
            PortListener old = listeners.get(portOf(change.before()));
            Route r = old == null ? null : old.get(change.before().key());
            if (r != null && r.mapping.equals(change.before())) {
                old.remove(r.mapping.key());
                displaced.put(r.mapping, r);
            }
        }
    }

    /** Kernel forwarding's flush is an nftables transaction: the table commits its journal meanwhile. */
    @Override
    public synchronized boolean flushesBatches() {
        return kernel != null;
    }

    /**
     * Kernel forwarding: the batch's nftables transaction. Relays: the listeners this batch bound reach their event
     * loops, one task per loop ({@link Registrations}).
     */
    @Override
    public synchronized void flush() throws ForwardingException {
        if (kernel != null) {
            kernel.flush();
            return;
        }
        ctx.registrations().flush();
    }

    @Override
    public synchronized void abort(Change change) {
        if (kernel != null) {
            kernel.abort(change);
            return;
        }
        if (!relaying() || change.after() == null || !change.after().enabled()) {
            return; // relays took no part in removals and disabling before they were committed
        }
        Mapping after = change.after();
        PortListener l = listeners.get(portOf(after));
        if (l != null) {
            Route r = l.get(after.key());
            if (r != null && r.mapping.equals(after)) {
                l.remove(after.key());
            }
        }
        Mapping before = change.before();
        Route back = before == null ? null : displaced.remove(before);
        if (back != null) {
            PortListener bl = listeners.get(portOf(before));
            if (bl != null) {
                bl.put(back);
            }
        }
        closeIfIdle(portOf(after));
        ctx.registrations().flush(); // what the batch's other changes bound
    }

    // ---- TableListener: the table's writer thread ----

    @Override
    public synchronized void committed(List<Change> changes) {
        if (kernel != null) {
            kernel.committed(changes);
            return;
        }
        if (!relaying()) {
            return;
        }
        for (Change c : changes) {
            switch (c.type()) {
                case ADDED -> ensureServed(c.after());
                case UPDATED -> {
                    retire(c.before(), c.after());
                    if (c.after().enabled()) {
                        ensureServed(c.after());
                    } else {
                        unroute(c.after());
                    }
                }
                case REMOVED -> {
                    unroute(c.before());
                    retire(c.before(), null);
                    PortListener l = listeners.get(portOf(c.before()));
                    if (l == null || l.get(c.before().key()) == null) {
                        meters.remove(c.before().key()); // unless a new row took the key in the same batch
                    }
                }
            }
        }
        displaced.clear();
        ctx.registrations().flush(); // rows committed without prepare (restored ones) bound just now
    }

    @Override
    public synchronized void externalAddressChanged(InetAddress previous, InetAddress current) {
        externalAddress = current;
        if (kernel != null) {
            kernel.externalAddressChanged(current);
            return;
        }
        if (!relaying()) {
            return;
        }
        log.info("rebinding {} listeners from {} to {}", listeners.size(), previous.getHostAddress(), current.getHostAddress());
        for (PortListener l : listeners.values()) {
            l.unbind();
            try {
                l.bind(current, null);
            } catch (ForwardingException e) {
                log.warn("{} {} does not forward after the address change: {}", l.protocol.label(), l.port, e.getMessage());
            }
        }
    }

    /** Makes sure an enabled committed row is served (restored rows and rows committed without prepare). */
    private void ensureServed(Mapping m) {
        if (!m.enabled()) {
            return;
        }
        PortListener l = listeners.get(portOf(m));
        Route r = l == null ? null : l.get(m.key());
        if (r != null && r.mapping.equals(m)) {
            return;
        }
        if (r != null && r.mapping.internal().equals(m.internal()) && r.mapping.remote().equals(m.remote())) {
            l.put(new Route(m, r.meter)); // a lease refresh: same forwarding, newer row
            return;
        }
        try {
            prepare(Change.added(m, Change.Cause.REQUEST));
        } catch (ForwardingException e) {
            log.warn("{} does not forward: {}", m, e.getMessage());
        }
    }

    /** Stops new peers of a removed or disabled row; the port closes when no row is left on it. */
    private void unroute(Mapping m) {
        PortListener l = listeners.get(portOf(m));
        if (l == null) {
            return;
        }
        Route r = l.get(m.key());
        // The same row (a removal or a disabling of it), not a newer one that took the key in the same batch.
        if (r != null && r.mapping.owner().equals(m.owner()) && r.mapping.createdAt().equals(m.createdAt())) {
            l.remove(m.key());
            if (config.dataplane().cutOnDelete()) {
                r.cut();
            }
        }
        closeIfIdle(portOf(m));
    }

    /** A row replaced by a prepared change: its connections run on, unless deletes cut. */
    private void retire(Mapping before, Mapping after) {
        Route r = displaced.remove(before);
        if (r != null && config.dataplane().cutOnDelete() && (after == null || !after.internal().equals(before.internal()))) {
            r.cut();
        }
    }

    private PortListener listenerFor(Protocol protocol, int port) throws ForwardingException {
        PortKey key = new PortKey(protocol, port);
        PortListener l = listeners.get(key);
        if (l != null && l.bound()) {
            return l;
        }
        if (l == null) {
            l = PortListener.of(ctx, protocol, port);
        }
        l.bind(externalAddress, ctx.registrations()); // handed to its loop by this batch's flush
        listeners.put(key, l);
        log.debug("listening on {} {}:{}", protocol.label(), externalAddress.getHostAddress(), port);
        return l;
    }

    private void closeIfIdle(PortKey key) {
        PortListener l = listeners.get(key);
        if (l != null && l.isEmpty()) {
            listeners.remove(key);
            l.unbind();
            log.debug("stopped listening on {} {}", key.protocol().label(), key.port());
        }
    }

    private Meter meterOf(MappingKey key) {
        return meters.computeIfAbsent(key, k -> new Meter(totals));
    }

    private static PortKey portOf(Mapping m) {
        return new PortKey(m.protocol(), m.externalPort());
    }

    private boolean relaying() {
        return config.dataplane().enabled() && ctx != null;
    }

    private void onTraffic(Route r) {
        if (r.mapping.kind() == Kind.TRIGGERED) {
            triggers.incomingTraffic(r.mapping);
        }
    }

    // ---- TrafficStats ----

    @Override
    public Counters totals() {
        KernelForwarder k = kernel;
        return k != null ? k.totals() : totals.snapshot();
    }

    @Override
    public Counters divertedTotals() {
        TransparentDivert d = divert;
        return d == null ? Counters.ZERO : d.totals();
    }

    @Override
    public Counters of(MappingKey key) {
        KernelForwarder k = kernel;
        if (k != null) {
            return k.of(key);
        }
        Meter m = meters.get(key);
        return m == null ? Counters.ZERO : m.snapshot();
    }

    /** Spliced connections are counted in whole 64 KiB chunks: see {@link RelayCounters#bytesUncertainty()}. */
    @Override
    public long totalsBytesUncertainty() {
        return kernel != null ? 0 : relayTotals().bytesUncertainty();
    }

    @Override
    public long bytesUncertainty(MappingKey key) {
        return kernel != null ? 0 : relayCounters(key).bytesUncertainty();
    }

    /** Every figure the relay counts in total, each named for what it is (TCP reads, datagrams, spliced bytes). */
    public RelayCounters relayTotals() {
        return totals.counters();
    }

    /** Every figure the relay counts for one mapping ({@link RelayCounters#ZERO} when unknown). */
    public RelayCounters relayCounters(MappingKey key) {
        Meter m = meters.get(key);
        return m == null ? RelayCounters.ZERO : m.counters();
    }

    // ---- for tests ----

    /** The listener of a port, or null when nothing listens there. */
    PortListener listener(Protocol protocol, int port) {
        return listeners.get(new PortKey(protocol, port));
    }

    /** Stops every listener, the divert and the event loops. Established relays are cut. */
    @Override
    public synchronized void close() {
        if (kernelTriggers != null) {
            kernelTriggers.close();
            kernelTriggers = null;
        }
        if (kernel != null) {
            kernel.close(); // removes natgw's table: a clean stop leaves nothing behind
            kernel = null;
        }
        if (divert != null) {
            divert.stop();
            divert = null;
        }
        for (PortListener l : listeners.values()) {
            l.unbind();
        }
        listeners.clear();
        if (divertGroup != null) {
            divertGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            divertGroup = null;
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            group = null;
            ctx = null;
        }
    }
}
