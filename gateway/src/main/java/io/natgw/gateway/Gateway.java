package io.natgw.gateway;

import io.natgw.conf.ConfigException;
import io.natgw.conf.ConfigLoader;
import io.natgw.conf.NatgwConfig;
import io.natgw.core.Forwarder;
import io.natgw.core.MappingTable;
import io.natgw.core.TrafficStats;
import io.natgw.core.WanLink;
import io.natgw.gateway.link.LinkSampler;
import io.natgw.gateway.link.SysfsWanLink;
import io.natgw.dataplane.Dataplane;
import io.natgw.dataplane.EpollKeepRegistered;
import io.natgw.igd.IgdServer;
import io.natgw.pcp.PcpServer;
import io.natgw.persistence.JournalLeaseStore;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.natgw.gateway.admin.AdminHooks;
import io.natgw.gateway.admin.AdminServer;
import io.natgw.gateway.admin.GatewayMeters;
import io.natgw.gateway.admin.Listener;
import io.natgw.gateway.admin.ReloadReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Deque;

/**
 * The daemon's wiring: the journal, the dataplane, the one table, then the front-ends, started in that
 * order and closed in the reverse one. Nothing listens before the table has restored its leases.
 */
public final class Gateway implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);

    /** The configuration in force: replaced by a {@link #reload()} (listener keys keep their running values). */
    private volatile NatgwConfig config;
    /** Where {@link #reload()} reads the configuration again. */
    private final ConfigSource source;
    private final Deque<AutoCloseable> open = new ArrayDeque<>();
    private MappingTable table;
    private Dataplane dataplane;
    private AdminServer admin;
    private JournalLeaseStore store;
    private SysfsWanLink link;
    private volatile boolean closed;

    /**
     * Start-up failed; the message is one line that says what and where: the path, the address and port, the
     * service, and the system's reason (a port in use, a data directory that is a file, a full disk …).
     */
    public static final class StartException extends Exception {
        private static final long serialVersionUID = 1L;

        StartException(String message, Throwable cause) {
            super(oneLine(message), cause);
        }
    }

    /** Reads the configuration file again for a reload; throws with file:line:column errors when it is invalid. */
    @FunctionalInterface
    public interface ConfigSource {
        NatgwConfig load() throws ConfigException;
    }

    private Gateway(NatgwConfig config, ConfigSource source) {
        this.config = config;
        this.source = source;
    }

    /** Reloads re-read {@code config.source()} (or the default configuration when it is not a file). */
    public static Gateway start(NatgwConfig config, Clock clock) throws StartException {
        Path file = config.source();
        return start(config, clock, () -> file != null && Files.isRegularFile(file) ? ConfigLoader.load(file) : DefaultConfig.load());
    }

    public static Gateway start(NatgwConfig config, Clock clock, ConfigSource source) throws StartException {
        Gateway g = new Gateway(config, source);
        try {
            g.startAll(clock);
            return g;
        } catch (Exception e) {
            g.close();
            throw new StartException(e.getMessage() == null ? e.toString() : e.getMessage(), e);
        }
    }

    /** Several lines (a wrapped exception's text) become one. */
    static String oneLine(String message) {
        return message == null ? "" : message.replaceAll("\\s*[\\r\\n]+\\s*", "; ").trim();
    }

    /** The system's reason for a file error, e.g. "No space left on device", with the file when it names one. */
    static String reason(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getMessage() != null && t.getCause().getMessage() != null
                && t.getMessage().contains(t.getCause().getMessage())) {
            t = t.getCause(); // a wrapper that only repeats its cause
        }
        if (t instanceof FileSystemException f && f.getReason() != null) {
            return f.getFile() != null ? f.getReason() + " (" + f.getFile() + ")" : f.getReason();
        }
        return t.getMessage() != null ? t.getMessage() : t.toString();
    }

    private void startAll(Clock clock) throws Exception {
        Path dataDir = config.dataDir().toAbsolutePath().normalize();
        if (Files.exists(dataDir) && !Files.isDirectory(dataDir)) {
            throw new IOException("data directory " + dataDir + " (dataDir in " + config.source()
                    + ") exists and is not a directory");
        }
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new IOException("cannot create data directory " + dataDir + ": " + reason(e), e);
        }
        DataDirPermissions.check(dataDir);
        try {
            store = JournalLeaseStore.open(dataDir, clock); // locks the directory: one daemon per journal
        } catch (IOException e) {
            throw new IOException("cannot open the lease journal in " + dataDir + ": " + reason(e), e);
        }
        open.push(store);

        Forwarder forwarder = Forwarder.NONE;
        if (config.dataplane().enabled()) {
            dataplane = new Dataplane(config, clock);
            dataplane.start();
            open.push(dataplane);
            forwarder = dataplane;
        }
        table = new MappingTable(config, store, forwarder, clock);
        if (dataplane != null) {
            dataplane.attach(table);
            table.addListener(dataplane);
        }
        link = SysfsWanLink.forConfig(config, table::externalAddress, clock);
        // Front-ends that listen to the table (the admin event stream, the IGD's GENA) are built before it starts,
        // so that they see the restored rows.
        if (config.admin().enabled()) {
            List<MeterBinder> meters = new ArrayList<>(List.of(GatewayMeters.journal(store), GatewayMeters.link(link)));
            AdminHooks hooks = AdminHooks.none().withTraffic(traffic()).withLink(link).withListeners(this::listeners).withReload(this::reload);
            if (dataplane != null) {
                meters.add(GatewayMeters.triggers(dataplane.triggers()));
                hooks = hooks.withTriggers(dataplane.triggers()::setRules);
            }
            admin = new AdminServer(config, table, hooks.withMeters(meters));
        }
        IgdServer igd = config.upnp().enabled()
                ? new IgdServer(config, table, link, traffic()).epollHandler(new EpollKeepRegistered()) : null;
        try {
            table.start();
        } catch (IOException | UncheckedIOException e) {
            closeQuietly(admin);
            closeQuietly(igd);
            throw new IOException("cannot restore the lease journal in " + dataDir + ": " + reason(e), e);
        } catch (RuntimeException e) {
            closeQuietly(admin);
            closeQuietly(igd);
            throw e;
        }
        open.remove(store); // the table closes its store
        open.push(table);
        // Built front-ends are closed on any later failure (they hold a table listener and threads), started or not.
        if (igd != null) {
            open.push(igd);
        }
        if (admin != null) {
            open.push(admin);
        }
        if (dataplane != null) {
            dataplane.tableStarted(); // kernel forwarding: its nftables table from the restored leases, if no change built it
        }

        if (config.pcp().enabled()) {
            PcpServer pcp = new PcpServer(config, table);
            open.push(pcp);
            pcp.start();
        }
        if (igd != null) {
            igd.start();
        }
        LinkSampler sampler = LinkSampler.start(link); // notices the link going down and up (uptime, GENA)
        open.push(sampler);
        if (admin != null) {
            admin.start(); // token, TLS identity, saved trigger rules, then listen
        }
        LOG.info("natgw started: external address {}, {} mappings, data in {}", table.externalAddress().getHostAddress(),
                table.view().size(), dataDir.toAbsolutePath().normalize());
        table.config().network().unreachableWarning(table.externalAddress()).ifPresent(w -> LOG.warn("{}", w));
        if (config.network().stun() != null) {
            // asks on a thread of its own, retrying with backoff until an answer: start-up never waits for it
            io.natgw.gateway.wan.StunProbe stun = io.natgw.gateway.wan.StunProbe.of(config.network());
            open.push(stun);
            if (admin != null) {
                admin.stun(stun);
            }
            stun.askFrom(table.externalAddress());
            table.addListener(new io.natgw.core.TableListener() {
                @Override
                public void committed(List<io.natgw.core.Change> changes) {
                }

                @Override
                public void externalAddressChanged(java.net.InetAddress previous, java.net.InetAddress current) {
                    stun.askFrom(current); // at once from the new address (rounds never overlap: one thread)
                }
            });
        }
        if (io.natgw.gateway.wan.WanAddressWatcher.wanted(config.network())) {
            open.push(io.natgw.gateway.wan.WanAddressWatcher.start(config.network(), table::externalAddress,
                    this::followWanAddress));
        }
    }

    /**
     * The WAN interface holds a new address: the table takes it (one INFO line, a new NAT-PMP/PCP epoch) and tells its
     * listeners: the dataplane moves forwarding (the nftables table rebuilt in one transaction, or the relays
     * rebound), NAT-PMP/PCP announce, the IGD sends its GENA event and a new BOOTID, the admin event stream shows it.
     */
    private void followWanAddress(java.net.InetAddress next) {
        MappingTable t = table;
        if (closed || t == null) {
            return;
        }
        io.natgw.core.Outcome o = t.apply(new io.natgw.core.MappingRequest.SetExternalAddress(
                io.natgw.core.Owner.of(next, io.natgw.core.Origin.CONFIG), next));
        if (o instanceof io.natgw.core.Outcome.Refused r) {
            LOG.error("the new WAN address {} was not taken: {}", next.getHostAddress(), r);
        }
    }

    /**
     * Re-reads the configuration file and validates it first: an invalid file changes nothing and is reported with
     * file:line:column (logged, and returned). A valid one applies permission rules, static mappings, trigger rules,
     * lifetimes and limits through the table (leases they now refuse are removed; every other lease keeps its port
     * and expiry) without restarting any listener; keys that need a restart keep their running values and are named
     * (see {@link ConfigReload}). SIGHUP, {@code natgw reload} and {@code POST /api/v1/reload} all come here.
     */
    public synchronized ReloadReport reload() {
        NatgwConfig next;
        try {
            next = source.load();
        } catch (ConfigException e) {
            List<String> errors = e.errors().stream().map(Object::toString).toList();
            String file = e.errors().get(0).file() != null ? e.errors().get(0).file().toString() : String.valueOf(config.source());
            LOG.error("configuration not reloaded, nothing changed: {} error{} in {}:", errors.size(),
                    errors.size() == 1 ? "" : "s", file);
            errors.forEach(err -> LOG.error("  {}", err));
            return new ReloadReport(false, file, errors, List.of(), List.of());
        }
        if (closed || table == null) {
            return new ReloadReport(false, String.valueOf(next.source()), List.of("the gateway is not running"), List.of(), List.of());
        }
        ConfigReload.Adopted adopted = ConfigReload.adopt(config, next);
        NatgwConfig cfg = adopted.config();
        MappingTable.Reconciled r = table.reconfigure(cfg);
        List<String> changes = new ArrayList<>();
        changes.add("permission rules: " + cfg.permissions().size() + "; limits and lifetimes applied");
        changes.add("static mappings: " + r.staticApplied() + " in force, " + r.staleStaticRemoved() + " removed (no longer in the file)"
                + (r.staticRefused() > 0 ? ", " + r.staticRefused() + " refused (see the log)" : ""));
        changes.add("leases removed because the rules in force refuse them: " + r.leasesRefused());
        if (admin != null) {
            changes.add(admin.reloadTriggers(cfg.triggers()));
        } else if (dataplane != null) {
            dataplane.triggers().setRules(cfg.triggers());
            changes.add("trigger rules: " + cfg.triggers().size() + " from the configuration file applied");
        }
        config = cfg;
        LOG.info("configuration reloaded from {}: {}", cfg.source(), String.join("; ", changes));
        if (!adopted.restartNeeded().isEmpty()) {
            LOG.warn("configuration reloaded, but these keys changed and take effect only after a restart: {}",
                    String.join(", ", adopted.restartNeeded()));
        }
        return new ReloadReport(true, String.valueOf(cfg.source()), List.of(), adopted.restartNeeded(), changes);
    }

    /** What the status panel lists besides the admin listener itself (from the configuration). */
    private List<Listener> listeners() {
        List<Listener> out = new ArrayList<>();
        for (java.net.InetAddress a : config.network().lanAddresses()) {
            if (config.pcp().enabled()) {
                out.add(new Listener("nat-pmp/pcp", "udp", new io.natgw.core.Endpoint(a, config.pcp().port()).toString()));
            }
            if (config.upnp().enabled()) {
                out.add(new Listener("upnp http", "tcp", new io.natgw.core.Endpoint(a, config.upnp().httpPort()).toString()));
            }
        }
        if (config.upnp().enabled() && config.upnp().ssdp()) {
            out.add(new Listener("ssdp", "udp", "239.255.255.250:1900"));
        }
        return out;
    }

    /** The WAN link natgw reports (the IGD's link figures, status, metrics). */
    public WanLink link() {
        return link != null ? link : WanLink.NONE;
    }

    /** The dataplane's counters, or zeros when the dataplane is off. */
    public TrafficStats traffic() {
        return dataplane != null ? dataplane : TrafficStats.NONE;
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("closing {} failed: {}", c.getClass().getSimpleName(), e.toString());
        }
    }

    /** Stops the front-ends first, then the table (which drains its writer and closes the journal), then the dataplane. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        while (!open.isEmpty()) {
            AutoCloseable c = open.pop();
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("closing {} failed: {}", c.getClass().getSimpleName(), e.toString());
            }
        }
        LOG.info("natgw stopped");
    }
}
