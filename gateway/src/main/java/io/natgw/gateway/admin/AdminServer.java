package io.natgw.gateway.admin;

import io.natgw.conf.NatgwConfig;
import io.natgw.core.MappingTable;
import io.natgw.igd.ConnectionCap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;

/**
 * The admin listener: the HTTPS API, the web UI, the event stream and {@code /metrics} on
 * {@code admin.addresses}:{@code admin.port}. Plain HTTP only when {@code admin.plainHttp} (conf accepts that
 * for loopback addresses only). Create it before {@code table.start()} (it registers a table listener for
 * the event stream), {@link #start()} it after.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    /** The largest request body accepted (a mapping or a trigger rule is a few hundred bytes). */
    static final int MAX_BODY = 64 * 1024;
    static final int IDLE_SECONDS = 120;
    static final int HEARTBEAT_SECONDS = 25;

    private final NatgwConfig config;
    private final MappingTable table;
    private final AdminHooks hooks;
    private final AdminFiles files;
    private final TableEvents events;
    private final Instant startedAt;
    private final List<Channel> channels = new ArrayList<>();
    private EventLoopGroup group;
    private ExecutorService triggerWorker;
    private ExecutorService reloadWorker;
    private AdminToken token;
    private AdminTriggers triggers;
    private AdminLimits limits = AdminLimits.DEFAULT;
    private ConnectionCap cap;
    private volatile io.natgw.gateway.wan.StunProbe stun;

    public AdminServer(NatgwConfig config, MappingTable table, AdminHooks hooks) {
        this.config = config;
        this.table = table;
        this.hooks = hooks;
        this.files = new AdminFiles(config.dataDir());
        this.events = new TableEvents(hooks.traffic());
        this.startedAt = table.clock().instant();
        events.attach(table);
        table.addListener(events);
    }

    /**
     * Creates the token and TLS identity on first start, loads the trigger rules saved through the API (they take
     * precedence over the configuration's, see {@link AdminTriggers}) and applies the rules in force, then binds every admin address. Throws naming the address that failed.
     */
    public void start() throws IOException {
        token = AdminToken.loadOrCreate(files.token(), hooks.random());
        triggers = new AdminTriggers(files, config.triggers(), hooks.applyTriggers());
        triggers.start();
        FirstConnectionTls ssl = null;
        if (!config.admin().plainHttp()) {
            TlsIdentity id = TlsIdentity.loadOrCreate(files, config.admin().addresses(), table.clock().instant(), hooks.random());
            ssl = new FirstConnectionTls(id.keyManagers());
        }
        triggerWorker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "natgw-admin-triggers");
            t.setDaemon(true);
            return t;
        });
        reloadWorker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "natgw-admin-reload");
            t.setDaemon(true);
            return t;
        });
        AdminApi api = new AdminApi(new MappingsApi(table, hooks.traffic()), triggers,
                new StatusApi(table, hooks.traffic(), this::listeners, startedAt, () -> stun == null ? null : stun.result(),
                        hooks.link()),
                triggerWorker).withReload(hooks.reload(), reloadWorker);
        AdminHttpHandler handler = new AdminHttpHandler(token, api, events,
                new AdminMetrics(table, hooks.traffic(), hooks.meters()), new WebAssets());
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        FirstConnectionTls tls = ssl;
        AdminLimits l = limits;
        cap = new ConnectionCap("admin", l.maxConnections(), l.maxPerClient());
        FailedLogins failedLogins = new FailedLogins(table.clock());
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ChannelPipeline p = ch.pipeline();
                        p.addLast(cap);
                        if (tls != null) {
                            p.addLast(tls.context().newHandler(ch.alloc()));
                        }
                        p.addLast(new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS));
                        p.addLast(new HttpServerCodec(4096, 8192, 8192));
                        p.addLast(new AdminGate(token, l, failedLogins)); // deadlines, and the token before the body
                        p.addLast(new HttpObjectAggregator(MAX_BODY));
                        p.addLast(handler);
                    }
                });
        try {
            for (InetAddress a : config.admin().addresses()) {
                InetSocketAddress at = new InetSocketAddress(a, config.admin().port());
                var f = b.bind(at).awaitUninterruptibly();
                if (!f.isSuccess()) {
                    throw new IOException("admin API cannot listen on " + a.getHostAddress() + ":" + config.admin().port()
                            + ": " + f.cause().getMessage(), f.cause());
                }
                channels.add(f.channel());
            }
        } catch (IOException e) {
            close();
            throw e;
        }
        group.next().scheduleAtFixedRate(events::heartbeat, HEARTBEAT_SECONDS, HEARTBEAT_SECONDS, TimeUnit.SECONDS);
        LOG.info("admin {} listening on {} (web UI and API; token in {})", ssl != null ? "https" : "http",
                boundAddresses(), files.token());
    }

    /**
     * A reload: the configuration file's trigger rules are now {@code next}; applied unless the set saved through
     * the API is in force (see {@link AdminTriggers}). Runs with the API's trigger changes, one at a time; returns
     * one line saying what happened.
     */
    public String reloadTriggers(List<io.natgw.conf.TriggerRule> next) {
        ExecutorService worker = triggerWorker;
        if (worker == null) {
            return "trigger rules: not applied (the admin server is not running)";
        }
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> triggers.reload(next), worker).join();
    }

    /** Deadlines and connection caps (tests shorten them). Call before {@link #start()}. */
    AdminServer limits(AdminLimits limits) {
        this.limits = limits;
        return this;
    }

    /** Connections open now (counted by the cap). */
    int openConnections() {
        return cap == null ? 0 : cap.open();
    }

    /** Where the listener is bound (the real ports when the configured port is 0). */
    public List<InetSocketAddress> boundAddresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (Channel c : channels) {
            out.add((InetSocketAddress) c.localAddress());
        }
        return out;
    }

    /** The web UI's address, e.g. {@code https://127.0.0.1:8443/}. */
    public String url() {
        InetSocketAddress a = boundAddresses().get(0);
        return AdminEndpoint.url(!config.admin().plainHttp(), a.getAddress(), a.getPort());
    }

    /** The STUN probe whose answer the status shows (network.wan.stun). */
    public void stun(io.natgw.gateway.wan.StunProbe probe) {
        this.stun = probe;
    }

    private List<Listener> listeners() {
        List<Listener> out = new ArrayList<>(hooks.listeners().get());
        for (InetSocketAddress a : boundAddresses()) {
            out.add(new Listener(config.admin().plainHttp() ? "admin http" : "admin https", "tcp",
                    new io.natgw.core.Endpoint(a.getAddress(), a.getPort()).toString()));
        }
        return out;
    }

    /**
     * The admin listener's TLS context, made on its first connection. Initialising the JDK's TLS (its cipher suites and
     * random source) takes about 65 ms of CPU in a JVM that has just started, and at start-up it would be spent while
     * NAT-PMP, PCP and UPnP already answer their first clients (on a two-core router, their first 300 requests took
     * about a fifth longer with the admin listener's start-up beside them); an admin's first page pays it instead.
     * The key managers are made at start, so an identity the JDK cannot use still fails the start.
     */
    private static final class FirstConnectionTls {
        private final KeyManager[] keys;
        private SslContext context;

        FirstConnectionTls(KeyManager[] keys) {
            this.keys = keys;
        }

        synchronized SslContext context() {
            if (context == null) {
                try {
                    SSLContext c = SSLContext.getInstance("TLS");
                    c.init(keys, null, null);
                    context = new JdkSslContext(c, false, ClientAuth.NONE);
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("cannot initialise the admin listener's TLS: " + e.getMessage(), e);
                }
            }
            return context;
        }
    }

    @Override
    public void close() {
        table.removeListener(events); // the table may outlive this server (a failed start, a test)
        events.closeAll();
        for (Channel c : channels) {
            c.close().awaitUninterruptibly();
        }
        channels.clear();
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
            group = null;
        }
        if (triggerWorker != null) {
            triggerWorker.shutdown();
            triggerWorker = null;
        }
        if (reloadWorker != null) {
            reloadWorker.shutdown();
            reloadWorker = null;
        }
    }
}
