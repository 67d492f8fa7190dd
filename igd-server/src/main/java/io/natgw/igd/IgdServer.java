package io.natgw.igd;

import io.natgw.conf.NatgwConfig;
import io.natgw.core.Change;
import io.natgw.core.MappingTable;
import io.natgw.core.TableListener;
import io.natgw.core.TrafficStats;
import io.natgw.core.WanLink;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.jupnp.model.Namespace;
import org.jupnp.model.NetworkAddress;
import org.jupnp.model.ValidationException;
import org.jupnp.model.meta.LocalDevice;
import org.jupnp.transport.RouterException;
import org.jupnp.util.SpecificationViolationReporter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The UPnP InternetGatewayDevice: IGD:1 and IGD:2 device trees serving one {@link MappingTable}, hosted by
 * jupnp as a device only, over Netty HTTP on the configured LAN addresses, found by SSDP on port 1900.
 * Construct it before the table is started (it listens to the table's changes for GENA events).
 */
public final class IgdServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(IgdServer.class);
    static final int SSDP_PORT = 1900;

    private final NatgwConfig config;
    private final int ssdpPort;
    private final IgdIdentity identity;
    private final IgdDevices.Tree v1;
    private final IgdDevices.Tree v2;
    private final SsdpTargets targets;
    private final RequestGuard guard;
    private final MappingTable table;
    private final IgdEvents events;
    static final int EVENT_QUEUE = 1024;
    private final GenaBudget gena = new GenaBudget();
    private final DroppedEvents droppedEvents = new DroppedEvents();
    private final LongAdder shortcutAnswers = new LongAdder();
    private final ExecutorService eventExecutor;
    private final Namespace namespace = new Namespace();
    private Duration requestTimeout = Duration.ofSeconds(10);
    private int maxConnections = ConnectionCap.MAX_TOTAL;
    private int maxPerClient = ConnectionCap.MAX_PER_CLIENT;
    private int sendBuffer;
    private IoHandlerFactory epollHandler;
    private volatile String httpTransport = "none";
    private EventLoopGroup group;
    private ThreadPoolExecutor workers;
    private IgdUpnpService upnp;

    /**
     * @param link    the WAN link whose state and counters WANCommonInterfaceConfig and GetStatusInfo report
     * @param traffic the dataplane's per-mapping counters (WANIPv6FirewallControl's GetPinholePackets)
     */
    public IgdServer(NatgwConfig config, MappingTable table, WanLink link, TrafficStats traffic) {
        this(config, table, link, traffic, config.upnp().ssdp() ? SSDP_PORT : 0);
    }

    /** @param ssdpPort where SSDP listens (tests use another port than 1900); 0 = no SSDP */
    IgdServer(NatgwConfig config, MappingTable table, WanLink link, TrafficStats traffic, int ssdpPort) {
        this.config = config;
        this.table = table;
        this.ssdpPort = ssdpPort;
        identity = IgdIdentity.load(config);
        try {
            v1 = IgdDevices.build(1, config.upnp().friendlyName(), identity, config.network(), table, link, null);
            v2 = IgdDevices.build(2, config.upnp().friendlyName(), identity, config.network(), table, link,
                    new WanIpv6FirewallControl(table, traffic, table::forwardsPinholes,
                            new ConntrackTimeouts(ConntrackTimeouts.SYSCTL)));
        } catch (ValidationException e) {
            throw new IllegalStateException("the IGD device model is invalid: " + e.getErrors(), e);
        }
        targets = new SsdpTargets(v1.root(), v2.root());
        guard = new RequestGuard(config.network(), Map.of(descriptionPath(v2.root()), descriptionPath(v1.root())), gena,
                table::externalAddress);
        eventExecutor = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(EVENT_QUEUE),
                new DefaultThreadFactory("natgw-igd-events", true), droppedEvents);
        List<org.jupnp.model.meta.LocalService<?>> services = new java.util.ArrayList<>(v1.services());
        services.addAll(v2.services());
        events = new IgdEvents(services, eventExecutor, gena::anySubscription);
        table.addListener(events);
        table.addListener(newBootOnAddressChange);
        link.onStateChange(events::linkChanged);
    }

    /** UDA 1.1 section 1.2.2: a new external address is a new BOOTID, announced by ssdp:byebye then ssdp:alive. */
    private final TableListener newBootOnAddressChange = new TableListener() {
        @Override
        public void committed(List<Change> changes) {
        }

        @Override
        public void externalAddressChanged(InetAddress previous, InetAddress current) {
            eventExecutor.execute(IgdServer.this::announceNewBoot);
        }
    };

    /** Event thread: byebye with the old BOOTID, the BOOTID increased, alive with the new one (SSDP on only). */
    private void announceNewBoot() {
        IgdUpnpService u;
        synchronized (this) {
            u = upnp;
        }
        if (u == null || ssdpPort == 0) {
            bumpBootId();
            return;
        }
        for (LocalDevice root : List.of(v1.root(), v2.root())) {
            u.getProtocolFactory().createSendingNotificationByebye(root).run();
        }
        bumpBootId();
        for (LocalDevice root : List.of(v1.root(), v2.root())) {
            u.getProtocolFactory().createSendingNotificationAlive(root).run();
        }
    }

    private void bumpBootId() {
        try {
            long id = identity.bootId().next();
            LOG.debug("UPnP BOOTID.UPNP.ORG is now {} (the external address changed)", id);
        } catch (java.io.IOException e) {
            LOG.warn("UPnP BOOTID.UPNP.ORG stays {}: it cannot be kept in {}: {}", identity.bootId(), config.dataDir(),
                    e.toString());
        }
    }

    /** BOOTID.UPNP.ORG in force (tests). */
    long bootId() {
        return identity.bootId().value();
    }

    /** Opens HTTP on every LAN address and SSDP, and announces both devices. Throws when anything cannot listen. */
    public synchronized void start() {
        if (upnp != null) {
            throw new IllegalStateException("already started");
        }
        HttpTransport transport = HttpTransport.best(epollHandler);
        httpTransport = transport.name();
        group = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("natgw-igd-http", true), transport.ioHandler());
        AtomicInteger n = new AtomicInteger();
        workers = new ThreadPoolExecutor(4, 32, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(256), r -> {
            Thread t = new Thread(r, "natgw-igd-worker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
        List<InetAddress> lan = lanAddresses(config.network().lanAddresses());
        NettyStreamServer.Config http = new NettyStreamServer.Config(config.upnp().httpPort(), 64 * 1024, 64,
                (int) requestTimeout.toMillis(), maxConnections, maxPerClient, sendBuffer);
        StartFailures failures = new StartFailures();
        IgdServiceConfiguration configuration = new IgdServiceConfiguration(new IgdServiceConfiguration.Parts(
                lan, config.upnp().httpPort(), ssdpPort, group, transport, workers, guard, http, failures, identity, shortcutAnswers));
        upnp = new IgdUpnpService(configuration, guard, targets, new SsdpLimiter(table.clock()), failures, gena);
        // jupnp reports each malformed packet it meets at WARN; clients' bad packets are refused at DEBUG here.
        SpecificationViolationReporter.disableReporting();
        try {
            upnp.startup();
            if (!upnp.getRouter().isEnabled()) {
                throw new IllegalStateException(failures.first("UPnP could not open its sockets on " + lan));
            }
            List<NetworkAddress> servers = upnp.getRouter().getActiveStreamServers(null);
            if (servers.size() < lan.size()) {
                throw new IllegalStateException(failures.first("UPnP HTTP listens on " + servers.size()
                        + " of the LAN addresses " + lan + ", port " + config.upnp().httpPort()));
            }
            upnp.getRegistry().addDevice(v1.root());
            upnp.getRegistry().addDevice(v2.root());
        } catch (RuntimeException | RouterException e) {
            close();
            throw e instanceof IllegalStateException ise ? ise : new IllegalStateException("UPnP IGD failed to start: " + e, e);
        }
        for (InetAddress a : lan) {
            LOG.info("UPnP IGD:1 at {} and IGD:2 at {}{}, HTTP over {}", descriptionUrl(1, a), descriptionUrl(2, a),
                    ssdpPort > 0 ? ", SSDP on port " + ssdpPort : ", SSDP off", httpTransport);
        }
    }

    /** GENA events dropped because their queue was full (the oldest queued one goes), since start. */
    public long droppedEvents() {
        return droppedEvents.count();
    }

    /** SOAP actions {@link SoapShortcut} answered since start (tests: which path ran). */
    long shortcutAnswers() {
        return shortcutAnswers.sum();
    }

    /** GENA subscriptions held now. */
    int subscriptions() {
        return gena.total();
    }

    /** For tests: run {@code task} on the event thread (to hold it busy). */
    void onEventThread(Runnable task) {
        eventExecutor.execute(task);
    }

    /** Connection caps of the HTTP listener (tests lower them). Call before {@link #start()}. */
    synchronized IgdServer connectionCaps(int total, int perClient) {
        this.maxConnections = total;
        this.maxPerClient = perClient;
        return this;
    }

    /**
     * The handler of the HTTP server's epoll event loops (where epoll loads). The daemon passes the dataplane's
     * work-around for Netty dropping a half-closed channel from the epoll set: an HTTP client may half-close after its
     * requests and still be owed answers larger than the socket holds. Netty's own handler by default. Call before
     * {@link #start()}.
     */
    public synchronized IgdServer epollHandler(IoHandlerFactory handler) {
        this.epollHandler = handler;
        return this;
    }

    /** The HTTP server's transport once started: epoll or nio. */
    String httpTransport() {
        return httpTransport;
    }

    /** SO_SNDBUF of HTTP connections, 0 for the kernel's (tests lower it). Call before {@link #start()}. */
    synchronized IgdServer sendBuffer(int bytes) {
        this.sendBuffer = bytes;
        return this;
    }

    /** How long a connection may take to send a complete request (tests shorten it). Call before {@link #start()}. */
    synchronized IgdServer requestTimeout(Duration timeout) {
        this.requestTimeout = timeout;
        return this;
    }

    /**
     * The description of the IGD:{@code version} tree as served on a LAN address. An IPv6 address is bracketed; a
     * link-local one carries its zone as RFC 6874 writes it ({@code %25gwlan}): the URL works from this host.
     */
    public URI descriptionUrl(int version, InetAddress lan) {
        LocalDevice root = version == 1 ? v1.root() : v2.root();
        return URI.create("http://" + urlHost(lan, true) + ":" + port(lan) + descriptionPath(root));
    }

    /**
     * The host part of a URL: an IPv4 literal, or a bracketed IPv6 one. With {@code zone}, a scoped IPv6 address
     * keeps its zone as RFC 6874 escapes it ({@code [fe80::1%25eth0]}); without, the zone is left out, as in the
     * LOCATION of SSDP answers: the gateway's interface name means nothing on the client, which uses the zone
     * it received the answer on (miniupnpc does; UDA 2.0 §1.1.2 says link-local URLs carry no zone).
     */
    static String urlHost(InetAddress a, boolean zone) {
        if (!(a instanceof Inet6Address v6)) {
            return a.getHostAddress();
        }
        String bare = unscoped(v6).getHostAddress();
        String scope = v6.getScopedInterface() != null ? v6.getScopedInterface().getName()
                : v6.getScopeId() != 0 ? Integer.toString(v6.getScopeId()) : null;
        return "[" + bare + (zone && scope != null ? "%25" + scope : "") + "]";
    }

    /** {@code 192.168.77.1:5000}, {@code [fd00:77::1]:5000} (for messages). */
    static String hostPort(InetAddress a, int port) {
        return (a instanceof Inet6Address ? "[" + a.getHostAddress() + "]" : a.getHostAddress()) + ":" + port;
    }

    /** The same IPv6 address without a zone. */
    static Inet6Address unscoped(Inet6Address a) {
        try {
            return (Inet6Address) InetAddress.getByAddress(a.getAddress());
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e); // 16 bytes are always an address
        }
    }

    /** The HTTP port UPnP listens on at this LAN address (the bound one when configured as 0). */
    int port(InetAddress lan) {
        try {
            for (NetworkAddress a : upnp.getRouter().getActiveStreamServers(lan)) {
                if (a.getAddress().equals(lan)) {
                    return a.getPort();
                }
            }
        } catch (RouterException e) {
            throw new IllegalStateException("UPnP router unavailable", e);
        }
        throw new IllegalArgumentException(lan.getHostAddress() + " is not a LAN address UPnP serves");
    }

    private String descriptionPath(LocalDevice root) {
        return namespace.getDescriptorPathString(root);
    }

    /**
     * The configured LAN addresses, plus the link-local IPv6 addresses of each interface that carries a configured
     * IPv6 LAN address (not loopback): SSDP over IPv6 is link-local (ff02::c), so a client on that link may know
     * only the gateway's link-local address. A link-local address is reachable from its link only, the LAN.
     */
    static List<InetAddress> lanAddresses(List<InetAddress> configured) {
        List<InetAddress> out = new ArrayList<>();
        for (InetAddress a : configured) {
            if (a instanceof Inet6Address v6 && !v6.isLinkLocalAddress() && !v6.isLoopbackAddress()) {
                out.add(a);
                linkLocalOf(v6).stream().filter(l -> !out.contains(l)).forEach(out::add);
            } else if (!out.contains(a)) {
                out.add(a);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalStateException("UPnP needs a LAN address; configured: " + configured);
        }
        return out;
    }

    private static List<InetAddress> linkLocalOf(Inet6Address a) {
        try {
            NetworkInterface nif = NetworkInterface.getByInetAddress(a);
            if (nif == null) {
                return List.of(); // LanNetworkAddressFactory names the missing address
            }
            return nif.inetAddresses().filter(x -> x instanceof Inet6Address && x.isLinkLocalAddress()).toList();
        } catch (SocketException e) {
            return List.of();
        }
    }

    @Override
    public synchronized void close() {
        events.close();
        table.removeListener(events);
        table.removeListener(newBootOnAddressChange);
        if (upnp != null) {
            try {
                upnp.shutdown();
            } catch (RuntimeException e) {
                LOG.warn("UPnP shutdown: {}", e.toString());
            }
            upnp = null;
            LOG.info("UPnP IGD stopped");
        }
        if (workers != null) {
            workers.shutdownNow();
            workers = null;
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            group = null;
        }
        eventExecutor.shutdownNow();
    }
}
