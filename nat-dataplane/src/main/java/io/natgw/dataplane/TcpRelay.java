package io.natgw.dataplane;

import io.natgw.conf.NatgwConfig.RelayMode;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.util.internal.PlatformDependent;
import io.netty.channel.ChannelFuture;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollMode;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.net.InetSocketAddress;

/**
 * Connects an accepted connection to its target and relays both ways: by copying through user space
 * ({@link RelayHandler}), or with epoll {@code splice(2)} where the transport allows it.
 */
final class TcpRelay {

    private static final Logger log = LoggerFactory.getLogger(TcpRelay.class);
    /** Splice accounting granularity: counters advance by this many bytes per completed splice. */
    static final int SPLICE_CHUNK = 64 * 1024;

    /**
     * Per-connection buffering: reads of up to {@link RelayTuning#readBytes()} and a 1 MiB outbound high-water mark before a side pauses the
     * other (the 64 KiB defaults toggle autoRead, an epoll_ctl each, many times per megabyte).
     */
    static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(512 * 1024, 1024 * 1024);

    private TcpRelay() {
    }

    static boolean splicing(RelayContext ctx) {
        return ctx.settings().relay() == RelayMode.SPLICE && ctx.transport().epoll();
    }

    /**
     * The adaptive read sizes of relayed connections for {@code tuning}: one shared allocator (it keeps no per-channel
     * state; each channel takes its own handle), made once rather than per connection.
     */
    static RecvByteBufAllocator readSizes(RelayTuning tuning) {
        Sizes s = sizes;
        if (s == null || s.readBytes != tuning.readBytes()) {
            sizes = s = new Sizes(tuning.readBytes(),
                    new AdaptiveRecvByteBufAllocator(512, Math.min(16 * 1024, tuning.readBytes()), tuning.readBytes()));
        }
        return s.allocator;
    }

    private record Sizes(int readBytes, RecvByteBufAllocator allocator) {
    }

    private static volatile Sizes sizes;

    /** One reflective channel factory per channel class (its constructor looked up once, not per connection). */
    private static final ClassValue<ChannelFactory<? extends Channel>> FACTORIES = new ClassValue<>() {
        @Override
        protected ChannelFactory<? extends Channel> computeValue(Class<?> type) {
            return new ReflectiveChannelFactory<>(type.asSubclass(Channel.class));
        }
    };

    /**
     * Whether new TCP channels already have TCP_NODELAY (Netty's socket configs set it in their constructor wherever
     * {@link PlatformDependent#canEnableTcpNoDelayByDefault()}): then setting it again is a second setsockopt per
     * socket for nothing.
     */
    static final boolean NODELAY_BY_DEFAULT = PlatformDependent.canEnableTcpNoDelayByDefault();

    /**
     * Opens the backend connection on the frontend's event loop and starts relaying once it is up; the frontend
     * must have autoRead off until then. A failed connect closes the frontend. Call on the frontend's event loop.
     *
     * <p>Per connection this is the least the relay needs, with no {@code Bootstrap} (whose per-call options map,
     * reflective channel factory, resolver look-up and queued connect task cost more than the rest here): the
     * backend channel is made and configured directly, {@code placeholder} (the handler now in the frontend's
     * pipeline: the listener's acceptor or {@link Early}) is replaced by the frontend's relay in one pipeline change,
     * and the backend gets its relay before it is registered. Until the backend connects, the frontend's relay holds
     * what it reads, as {@link Early} does (and takes over what an {@link Early} held).
     *
     * @param bindTo   the local address of the backend connection, or null for any
     * @param wanFront whether the frontend faces the WAN (mapped ports) or the LAN (diverted outbound flows)
     */
    static void connect(RelayContext ctx, Channel front, ChannelHandler placeholder, InetSocketAddress target,
                        InetSocketAddress bindTo, Meter meter, boolean wanFront) {
        boolean splice = splicing(ctx);
        Channel back;
        try {
            back = newBackend(ctx, target, bindTo);
            configure(ctx, back.config(), splice);
        } catch (RuntimeException e) {
            // No socket for the backend (e.g. out of descriptors): end the frontend here, on its own loop.
            log.debug("relay {} -> {}: no backend socket: {}", front.remoteAddress(), target, e.toString());
            front.close();
            return;
        }
        RelayHandler frontRelay = new RelayHandler(back, meter, wanFront, ctx.tuning().flushEachRead(), splice, true);
        if (placeholder instanceof Early early) {
            early.moveTo(frontRelay);
        }
        front.pipeline().replace(placeholder, "relay", frontRelay);
        back.pipeline().addLast("relay", new RelayHandler(front, meter, !wanFront, ctx.tuning().flushEachRead(), splice));
        ChannelFuture registered = front.eventLoop().register(back); // on this loop: done when it returns
        if (registered.isDone() && !registered.isSuccess()) {
            log.debug("relay {} -> {}: cannot register the backend: {}", front.remoteAddress(), target,
                    registered.cause().toString());
            PortListener.closeQuietly(back);
            front.close();
            return;
        }
        ChannelFuture f = bindTo == null ? back.connect(target) : back.connect(target, bindTo);
        f.addListener(done -> {
            if (!done.isSuccess()) {
                if (log.isDebugEnabled()) {
                    log.debug("relay {} -> {}: connect failed: {}", front.remoteAddress(), target, done.cause().toString());
                }
                front.close(); // the frontend's relay drops what it held
                return;
            }
            if (!front.isActive()) {
                back.close();
                return;
            }
            frontRelay.peerConnected();
            if (splice) {
                meter.spliced();
                splice((AbstractEpollStreamChannel) front, (AbstractEpollStreamChannel) back, meter, wanFront);
                splice((AbstractEpollStreamChannel) back, (AbstractEpollStreamChannel) front, meter, !wanFront);
            }
            RelayHandler.resumeReading(front);
        });
    }

    /**
     * A backend channel for {@code target}. On epoll an IPv4 target gets an IPv4 socket: Netty's default is a dual-stack
     * IPv6 socket, which costs an IPV6_V6ONLY setsockopt per connection and the kernel's v4-mapped path on each packet.
     */
    private static Channel newBackend(RelayContext ctx, InetSocketAddress target, InetSocketAddress bindTo) {
        if (ctx.transport().socketChannel() == EpollSocketChannel.class && target.getAddress() instanceof Inet4Address
                && (bindTo == null || bindTo.getAddress() instanceof Inet4Address)) {
            return new EpollSocketChannel(SocketProtocolFamily.INET);
        }
        return FACTORIES.get(ctx.transport().socketChannel()).newChannel();
    }

    /**
     * The backend's options: those that differ from a new channel's defaults only (autoRead is on by default: reading
     * starts once connected, after the connect listener put the relay in place, as promise listeners run before
     * channelActive triggers the first read).
     */
    private static void configure(RelayContext ctx, ChannelConfig c, boolean splice) {
        c.setConnectTimeoutMillis((int) Math.min(Integer.MAX_VALUE, ctx.settings().connectTimeout().toMillis()));
        c.setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        if (!NODELAY_BY_DEFAULT) {
            c.setOption(ChannelOption.TCP_NODELAY, true);
        }
        c.setWriteBufferWaterMark(WATER_MARK);
        c.setRecvByteBufAllocator(readSizes(ctx.tuning()));
        if (ctx.tuning().socketBuffer() > 0) {
            c.setOption(ChannelOption.SO_RCVBUF, ctx.tuning().socketBuffer());
            c.setOption(ChannelOption.SO_SNDBUF, ctx.tuning().socketBuffer());
        }
        if (splice) {
            c.setOption(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED);
        }
    }

    /** Makes the frontend hold what it delivers until {@link #connect} has a backend (idempotent; event loop). */
    static Early hold(Channel front) {
        Early early = front.pipeline().get(Early.class);
        if (early == null) {
            early = new Early();
            front.pipeline().addLast("early", early);
        }
        return early;
    }

    /**
     * Holds what the frontend delivers before {@link #connect} is called (the transparent divert reports a flow to
     * the trigger engine first): with autoRead off nothing is read, except that a FIN makes epoll read the pending
     * bytes (so a client that sends and half-closes at once loses nothing). {@link #connect} moves what it held to
     * the frontend's relay.
     */
    static final class Early extends ChannelInboundHandlerAdapter {
        private final java.util.ArrayDeque<ByteBuf> held = new java.util.ArrayDeque<>();
        private boolean inputShutdown;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf buf) {
                held.add(buf);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                inputShutdown = true;
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            drop();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (log.isDebugEnabled()) {
                log.debug("relay {}: {}", ctx.channel(), cause.toString());
            }
            ctx.close();
        }

        void moveTo(RelayHandler relay) {
            for (ByteBuf buf; (buf = held.poll()) != null; ) {
                relay.hold(buf);
            }
            if (inputShutdown) {
                relay.inputShutdownEarly();
            }
        }

        void drop() {
            for (ByteBuf buf; (buf = held.poll()) != null; ) {
                buf.release();
            }
        }
    }

    /** Splices {@code from} into {@code to} chunk by chunk, counting each completed chunk. */
    private static void splice(AbstractEpollStreamChannel from, AbstractEpollStreamChannel to, Meter meter, boolean fromWan) {
        if (!from.isActive() || !to.isActive()) {
            return;
        }
        from.spliceTo(to, SPLICE_CHUNK).addListener(f -> {
            if (f.isSuccess()) {
                if (fromWan) {
                    meter.splicedReceived(SPLICE_CHUNK); // approximate: the last partial chunk is never seen
                } else {
                    meter.splicedSent(SPLICE_CHUNK);
                }
                splice(from, to, meter, fromWan);
            }
        });
    }
}
