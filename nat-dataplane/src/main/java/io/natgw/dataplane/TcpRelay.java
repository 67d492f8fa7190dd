package io.natgw.dataplane;

import io.natgw.conf.NatgwConfig.RelayMode;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

    static RecvByteBufAllocator readSizes(RelayTuning tuning) {
        return new AdaptiveRecvByteBufAllocator(512, Math.min(16 * 1024, tuning.readBytes()), tuning.readBytes());
    }

    private TcpRelay() {
    }

    static boolean splicing(RelayContext ctx) {
        return ctx.settings().relay() == RelayMode.SPLICE && ctx.transport().epoll();
    }

    /**
     * Opens the backend connection on the frontend's event loop and starts relaying once it is up; the frontend
     * must have autoRead off until then. A failed connect closes the frontend.
     *
     * @param bindTo   the local address of the backend connection, or null for any
     * @param wanFront whether the frontend faces the WAN (mapped ports) or the LAN (diverted outbound flows)
     */
    static void connect(RelayContext ctx, Channel front, InetSocketAddress target, InetSocketAddress bindTo,
                        Meter meter, boolean wanFront) {
        boolean splice = splicing(ctx);
        Bootstrap b = new Bootstrap().group(front.eventLoop()).channel(ctx.transport().socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, ctx.settings().connectTimeout().toMillis()))
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.TCP_NODELAY, true)
                // Reading starts once connected, after the listener below has put the relay in place (promise
                // listeners run before channelActive triggers the first read): no extra epoll_ctl per connection.
                .option(ChannelOption.AUTO_READ, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .option(ChannelOption.RCVBUF_ALLOCATOR, readSizes(ctx.tuning()))
                .handler(new ChannelInboundHandlerAdapter());
        if (ctx.tuning().socketBuffer() > 0) {
            b.option(ChannelOption.SO_RCVBUF, ctx.tuning().socketBuffer()).option(ChannelOption.SO_SNDBUF, ctx.tuning().socketBuffer());
        }
        if (splice) {
            b.option(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED);
        }
        ChannelFuture f = bindTo == null ? b.connect(target) : b.connect(target, bindTo);
        Channel back = f.channel();
        Early early = hold(front);
        early.back = back;
        if (!back.isRegistered() && f.isDone() && !f.isSuccess()) {
            // No socket for the backend (e.g. out of descriptors): Netty's placeholder has no event loop, so its
            // listeners would run on another thread; end the frontend here, on its own loop.
            log.debug("relay {} -> {}: no backend socket: {}", front.remoteAddress(), target, f.cause().toString());
            early.back = null;
            early.drop();
            front.close();
            return;
        }
        f.addListener(done -> {
            if (!done.isSuccess()) {
                log.debug("relay {} -> {}: connect failed: {}", front.remoteAddress(), target, done.cause().toString());
                early.drop();
                front.close();
                return;
            }
            if (!front.isActive()) {
                early.drop();
                back.close();
                return;
            }
            front.pipeline().remove(early);
            front.pipeline().addLast("relay", new RelayHandler(back, meter, wanFront, ctx.tuning().flushEachRead(), splice));
            back.pipeline().addLast("relay", new RelayHandler(front, meter, !wanFront, ctx.tuning().flushEachRead(), splice));
            early.handOver(front.pipeline().get(RelayHandler.class));
            if (splice) {
                meter.spliced();
                splice((AbstractEpollStreamChannel) front, (AbstractEpollStreamChannel) back, meter, wanFront);
                splice((AbstractEpollStreamChannel) back, (AbstractEpollStreamChannel) front, meter, !wanFront);
            }
            RelayHandler.resumeReading(front);
        });
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
     * Holds what the frontend delivers before the backend is up: with autoRead off nothing is read, except that a
     * FIN makes epoll read the pending bytes (so a client that sends and half-closes at once loses nothing).
     */
    private static final class Early extends ChannelInboundHandlerAdapter {
        private Channel back;
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
            if (back != null) {
                PortListener.closeQuietly(back); // never registered when its socket could not be created
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("relay {}: {}", ctx.channel(), cause.toString());
            ctx.close();
        }

        /** Passes what was held to the relay now in place, in order, then the FIN if one came. */
        void handOver(RelayHandler relay) {
            for (ByteBuf buf; (buf = held.poll()) != null; ) {
                relay.count(buf.readableBytes());
                back.write(buf, back.voidPromise());
            }
            // The FIN goes after the held bytes: shutdownOutput would fail writes still queued.
            back.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                if (inputShutdown && back instanceof DuplexChannel d && back.isActive()) {
                    d.shutdownOutput();
                }
            });
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
