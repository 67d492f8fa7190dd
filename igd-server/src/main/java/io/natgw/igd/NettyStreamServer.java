package io.natgw.igd;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import org.jupnp.transport.Router;
import org.jupnp.transport.spi.InitializationException;
import org.jupnp.transport.spi.StreamServer;
import org.jupnp.transport.spi.StreamServerConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.LongAdder;

/**
 * jupnp's HTTP server (descriptions, SOAP, GENA) on Netty instead of Jetty: one listening channel per LAN
 * address. Requests are bounded in size, header count and time; each complete request is checked by
 * {@link RequestGuard} and then handed to jupnp's protocols on a bounded worker pool.
 */
final class NettyStreamServer implements StreamServer<NettyStreamServer.Config> {

    private static final Logger LOG = LoggerFactory.getLogger(NettyStreamServer.class);

    /**
     * @param maxRequestBytes request line + headers + body; larger requests get 413 (body) or 431/400 (head)
     * @param maxConnections  open connections on one address; over it, one that sent nothing yet is closed to make room
     * @param maxPerClient    open connections from one client address; over it, the new one is closed
     * @param sendBuffer      SO_SNDBUF of each connection, 0 for the kernel's own (tests lower it)
     */
    record Config(int listenPort, int maxRequestBytes, int maxHeaders, int requestTimeoutMillis, int maxConnections,
                  int maxPerClient, int sendBuffer) implements StreamServerConfiguration {
        @Override
        public int getListenPort() {
            return listenPort;
        }
    }

    private final Config config;
    private final EventLoopGroup group;
    private final HttpTransport transport;
    private final ExecutorService workers;
    private final RequestGuard guard;
    private final StartFailures failures;
    private final LongAdder shortcutAnswers;
    private volatile Channel channel;

    /** @param shortcutAnswers counts the actions {@link SoapShortcut} answered */
    NettyStreamServer(Config config, EventLoopGroup group, HttpTransport transport, ExecutorService workers, RequestGuard guard,
                      StartFailures failures, LongAdder shortcutAnswers) {
        this.config = config;
        this.shortcutAnswers = shortcutAnswers;
        this.failures = failures;
        this.group = group;
        this.transport = transport;
        this.workers = workers;
        this.guard = guard;
    }

    @Override
    public void init(InetAddress bindAddress, Router router) throws InitializationException {
        ConnectionCap cap = new ConnectionCap("UPnP HTTP", config.maxConnections(), config.maxPerClient());
        SoapShortcut shortcut = new SoapShortcut(router.getProtocolFactory().getUpnpService().getRegistry(), shortcutAnswers);
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 128)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (config.sendBuffer() > 0) {
                            ch.config().setSendBufferSize(config.sendBuffer());
                        }
                        ch.pipeline()
                                .addLast("cap", cap)
                                .addLast("http", new HttpServerCodec(4096, Math.min(8192, config.maxRequestBytes()), 8192))
                                .addLast("limits", new HttpLimits(config.maxHeaders()))
                                .addLast("aggregate", new HttpLimits.Aggregator(config.maxRequestBytes()))
                                .addLast("upnp", new UpnpHttpHandler(router.getProtocolFactory(), shortcut, workers, guard,
                                        config.requestTimeoutMillis()));
                    }
                });
        try {
            channel = b.bind(new InetSocketAddress(bindAddress, config.listenPort())).syncUninterruptibly().channel();
        } catch (Exception e) {
            String why = "UPnP HTTP cannot listen on " + bindAddress.getHostAddress() + ":" + config.listenPort()
                    + ": " + e.getMessage();
            failures.add(why);
            throw new InitializationException(why, e);
        }
        LOG.debug("UPnP HTTP listening on {}", channel.localAddress());
    }

    @Override
    public int getPort() {
        Channel c = channel;
        return c == null ? config.listenPort() : ((InetSocketAddress) c.localAddress()).getPort();
    }

    @Override
    public void stop() {
        Channel c = channel;
        if (c != null) {
            c.close().awaitUninterruptibly();
        }
    }

    /** Netty runs the server; jupnp's executor has nothing to do here. */
    @Override
    public void run() {
    }

    @Override
    public Config getConfiguration() {
        return config;
    }
}
