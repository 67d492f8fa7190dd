package io.natgw.dataplane;

import io.natgw.conf.Protocol;
import io.natgw.core.MappingKey;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollMode;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.unix.Socket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/** A TCP external port: each accepted peer is relayed to the internal host of the mapping that admits it. */
final class TcpListener extends PortListener {

    private static final Logger log = LoggerFactory.getLogger(TcpListener.class);
    private static final int BACKLOG = 1024;

    TcpListener(RelayContext ctx, int port) {
        super(ctx, Protocol.TCP, port);
    }

    @Override
    ChannelFuture startBind(InetAddress address) {
        return bootstrap().channel(ctx.transport().serverChannel()).bind(address, port);
    }

    /**
     * With epoll or NIO the socket is created, bound and listening on the calling thread (the table's writer): the
     * bind's answer (a port in use, out of descriptors) is known at once, without a round trip through an event loop
     * and back for every mapping; the event loop then sets up its pipeline, registers it and starts accepting (peers
     * wait in the backlog meanwhile). io_uring binds on its event loop ({@link #startBind}).
     */
    @Override
    Channel bindHere(InetAddress address, Registrations later) throws IOException {
        ServerChannel bound;
        if (ctx.transport().epoll()) {
            Socket s = Socket.newSocketStream();
            try {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(address, port));
                s.listen(BACKLOG);
                bound = direct() ? new DirectAcceptChannel(s.intValue(), this::acceptedDirect)
                        : new EpollServerSocketChannel(s.intValue());
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
        } else if (ctx.transport().serverChannel() == NioServerSocketChannel.class) {
            ServerSocketChannel s = ServerSocketChannel.open();
            try {
                s.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                s.bind(new InetSocketAddress(address, port), BACKLOG);
                bound = new NioServerSocketChannel(s);
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
        } else {
            return null;
        }
        handOver(bound, later, loop -> register(loop, bound).addListener(f -> {
            if (!f.isSuccess()) { // the event loops are shutting down: the socket is closed, bound() says so
                log.debug("tcp {}: the bound listener could not be registered: {}", port, f.cause().toString());
            }
        }));
        return bound;
    }

    /**
     * Whether accepted connections are relayed by {@link DirectTcpRelay}, without Netty channels: on native epoll, in copy
     * mode. Splice and the other transports relay with a Netty channel pair ({@link TcpRelay}).
     */
    boolean direct() {
        return ctx.transport().epoll() && !TcpRelay.splicing(ctx);
    }

    private ChannelFuture register(EventLoop loop, ServerChannel bound) {
        if (bound instanceof DirectAcceptChannel) { // its own pipeline: no ServerBootstrap acceptor, no child options
            bound.pipeline().addLast(new AcceptErrors(), DirectAcceptChannel.DROP);
            return loop.register(bound);
        }
        return bootstrap(loop).channelFactory(() -> bound).register();
    }

    /** An accepted socket of a {@link DirectAcceptChannel} (its event loop): relayed, or refused with a reset. */
    private void acceptedDirect(DirectAcceptChannel server, int fd, InetSocketAddress peer) {
        try {
            Route r = admit(peer);
            if (r == null) {
                DirectTcpRelay.reset(fd);
                return;
            }
            DirectTcpRelay.start((IoEventLoop) ctx.group().next(), ctx, fd, peer, r, target(r));
            pauseIfFull();
        } catch (RuntimeException e) { // not expected: start and reset close the socket on their own failures
            log.warn("tcp {}: relaying {} failed", port, peer, e);
        }
    }

    /**
     * The route that relays {@code peer}, with the connection's slot in the budget taken (and the trigger engine told
     * of the traffic), or null: no mapping admits it, or a budget is full (then this listener pauses if it is full).
     */
    private Route admit(InetSocketAddress peer) {
        Route r = route(peer);
        if (r == null) {
            log.debug("tcp {}: refused {} (no mapping admits it)", port, peer);
            return null;
        }
        RelayBudget.Limit over = ctx.budget().openTcp(r.mapping.key(), peer.getAddress());
        if (over != null) {
            log.debug("tcp {}: refused {} ({} reached)", port, peer, over.key);
            pauseIfFull();
            return null;
        }
        ctx.onTraffic().accept(r);
        if (log.isDebugEnabled()) {
            log.debug("tcp {}: {} -> {}", port, peer, target(r));
        }
        return r;
    }

    private static InetSocketAddress target(Route r) {
        return new InetSocketAddress(r.mapping.internal().address(), r.mapping.internal().port());
    }

    private ServerBootstrap bootstrap() {
        return bootstrap(ctx.group());
    }

    /** Accepting on {@code acceptor}; the accepted connections on the group's loops in turn. */
    private ServerBootstrap bootstrap(EventLoopGroup acceptor) {
        ServerBootstrap b = new ServerBootstrap().group(acceptor, ctx.group())
                .option(ChannelOption.SO_BACKLOG, BACKLOG)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, TcpRelay.WATER_MARK)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, TcpRelay.readSizes(ctx.tuning()))
                .handler(new AcceptErrors())
                .childHandler(new Accept());
        if (!TcpRelay.NODELAY_BY_DEFAULT) { // else already set by the channel's constructor: not a second setsockopt
            b.childOption(ChannelOption.TCP_NODELAY, true);
        }
        if (ctx.tuning().socketBuffer() > 0) {
            b.childOption(ChannelOption.SO_RCVBUF, ctx.tuning().socketBuffer()).childOption(ChannelOption.SO_SNDBUF, ctx.tuning().socketBuffer());
        }
        if (TcpRelay.splicing(ctx)) {
            b.childOption(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED);
        }
        return b;
    }

    /**
     * Stops accepting while no new connection could be relayed: the total is at its cap, or every mapping on this port
     * is at its own. Pending connections wait in the kernel's backlog (and beyond it the peers' SYNs go unanswered)
     * rather than being accepted and closed in a loop; {@link #resumeIfRoom} starts again as connections close.
     */
    private void pauseIfFull() {
        Channel server = serverChannel();
        if (server == null || !full()) {
            return;
        }
        ctx.budget().waiting(this, true); // before the check below: a connection closing meanwhile finds it waiting
        // On the listener's own loop: from another thread Netty keeps the read interest armed for one more accept.
        server.eventLoop().execute(() -> {
            if (full() && server.config().isAutoRead()) {
                server.config().setAutoRead(false);
                ctx.budget().tcpPaused();
                log.debug("tcp {}: at its connection budget, not accepting until connections close", port);
            }
            resumeNow(server);
        });
    }

    /** Accepts again if a new connection could now be relayed (any thread). */
    void resumeIfRoom() {
        Channel server = serverChannel();
        if (server == null) {
            ctx.budget().waiting(this, false);
        } else if (server.eventLoop().inEventLoop()) {
            resumeNow(server);
        } else {
            server.eventLoop().execute(() -> resumeNow(server));
        }
    }

    private void resumeNow(Channel server) {
        if (!full()) {
            ctx.budget().waiting(this, false);
            if (server.isOpen() && !server.config().isAutoRead()) {
                server.config().setAutoRead(true);
                log.debug("tcp {}: accepting again", port);
            }
        }
    }

    /** Whether this listener accepts now (false while it waits at a budget). */
    boolean accepting() {
        Channel server = serverChannel();
        return server != null && server.isActive() && server.config().isAutoRead();
    }

    private boolean full() {
        for (Route r : routes()) {
            if (ctx.budget().tcpRoomFor(r.mapping.key())) {
                return false;
            }
        }
        return true;
    }

    /**
     * A new route may let a paused listener accept again. One that accepts has nothing to resume: no hop to its event
     * loop for every mapping added (a pause decided meanwhile reads the new routes when it runs there).
     */
    @Override
    void routesChanged() {
        Channel server = serverChannel();
        if (server != null && server.config().isAutoRead()) {
            return;
        }
        resumeIfRoom();
    }

    @Override
    void unbind() {
        ctx.budget().waiting(this, false);
        super.unbind();
    }

    /**
     * A failed accept (EMFILE, ENFILE, ENOBUFS): pauses accepting for a second, as Netty's own acceptor would, and logs
     * one line per port per minute without a stack trace. Placed before Netty's acceptor, it keeps the failure from
     * reaching the pipeline's tail, which would log a stack trace per attempt.
     */
    private final class AcceptErrors extends ChannelInboundHandlerAdapter {
        private long lastLogged = Long.MIN_VALUE;
        private long failures;

        @Override
        public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
            Channel server = c.channel();
            failures++;
            long now = ctx.clock().millis();
            if (lastLogged == Long.MIN_VALUE || now - lastLogged >= RelayBudget.WARN_PERIOD.toMillis()) {
                lastLogged = now;
                log.warn("tcp {}: cannot accept ({}), {} time(s) since the last such warning; pausing 1 s each time",
                        port, cause.getMessage() != null ? cause.getMessage() : cause.toString(), failures);
                failures = 0;
            }
            if (server.config().isAutoRead()) {
                server.config().setAutoRead(false);
                server.eventLoop().schedule(() -> {
                    if (server.isOpen() && !server.config().isAutoRead()) {
                        server.config().setAutoRead(true);
                        pauseIfFull(); // unless a budget holds it
                    }
                }, 1, TimeUnit.SECONDS);
            }
        }
    }

    @ChannelHandler.Sharable
    private final class Accept extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext c) {
            Channel ch = c.channel(); // this handler stays in its pipeline until the relay replaces it
            InetSocketAddress peer = (InetSocketAddress) ch.remoteAddress();
            Route r = admit(peer);
            if (r == null) {
                reset(ch);
                return;
            }
            MappingKey key = r.mapping.key();
            InetAddress from = peer.getAddress();
            ch.closeFuture().addListener(x -> ctx.budget().closeTcp(key, from));
            r.track(ch);
            TcpRelay.connect(ctx, ch, this, target(r), null, r.meter, true);
            pauseIfFull();
        }
    }

    /** Answers with RST, as a closed port would. */
    private static void reset(Channel ch) {
        ch.config().setOption(ChannelOption.SO_LINGER, 0);
        ch.close();
    }
}
