package io.natgw.dataplane;

import io.natgw.conf.Protocol;
import io.natgw.core.MappingKey;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.unix.Socket;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A UDP external port. Each remote peer gets a session: a socket connected to the internal host, whose replies go
 * back to the peer from the mapped port. A session idle for the configured timeout (at least 120 s, RFC 4787 REQ-5)
 * ends; a mapping, and the relay in total, serve a bounded number of sessions ({@link RelayBudget}) and drop the
 * packets of new peers beyond it. Sessions live on the port's event loop only; they end with the port (a UDP session
 * cannot outlive its socket).
 */
final class UdpListener extends PortListener {

    private static final Logger log = LoggerFactory.getLogger(UdpListener.class);
    static final Duration MIN_IDLE = Duration.ofSeconds(120);
    /** Datagrams held while a session's socket connects. */
    private static final int MAX_PENDING = 32;
    /** A read buffer holds any datagram (Netty's default of 2048 bytes would truncate larger ones). */
    static final RecvByteBufAllocator DATAGRAM_READS = new FixedRecvByteBufAllocator(65536);
    /** Asked of the kernel for each socket (it caps this at net.core.rmem_max): absorbs bursts while the loop is busy. */
    private static final int SOCKET_BUFFER = 1024 * 1024;

    private final Duration idleTimeout;
    private final Map<InetSocketAddress, Session> sessions = new HashMap<>(); // event loop only
    /** Sessions written to during the current read burst, flushed together at its end (event loop only). */
    private final List<Session> unflushed = new ArrayList<>();
    private volatile Channel front;

    UdpListener(RelayContext ctx, int port) {
        super(ctx, Protocol.UDP, port);
        Duration configured = ctx.settings().udpIdleTimeout();
        this.idleTimeout = configured.compareTo(MIN_IDLE) < 0 ? MIN_IDLE : configured;
    }

    @Override
    ChannelFuture startBind(InetAddress address) {
        ChannelFuture f = new Bootstrap().group(ctx.group()).channel(ctx.transport().datagramChannel())
                .option(ChannelOption.SO_RCVBUF, SOCKET_BUFFER)
                .option(ChannelOption.RCVBUF_ALLOCATOR, DATAGRAM_READS)
                .handler(new Front())
                .bind(address, port);
        f.addListener(done -> {
            if (done.isSuccess()) {
                serving(f.channel());
            }
        });
        return f;
    }

    /**
     * With epoll or NIO the socket is created and bound on the calling thread (the table's writer), as a TCP
     * listener's is: the bind's answer is known at once, without waiting for a round trip through an event loop for
     * every mapping. Datagrams that arrive before its loop registers it wait in the socket's receive buffer.
     * io_uring binds on its event loop ({@link #startBind}).
     */
    @Override
    Channel bindHere(InetAddress address, Registrations later) throws IOException {
        Channel bound;
        if (ctx.transport().epoll()) {
            Socket s = Socket.newSocketDgram();
            try {
                s.setReceiveBufferSize(SOCKET_BUFFER);
                s.bind(new InetSocketAddress(address, port));
                bound = new EpollDatagramChannel(s.intValue());
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
        } else if (ctx.transport().datagramChannel() == NioDatagramChannel.class) {
            DatagramChannel s = DatagramChannel.open();
            try {
                s.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER);
                s.bind(new InetSocketAddress(address, port));
                bound = new NioDatagramChannel(s);
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
        } else {
            return null;
        }
        bound.config().setRecvByteBufAllocator(DATAGRAM_READS);
        bound.pipeline().addLast(new Front());
        handOver(bound, later, loop -> loop.register(bound).addListener(f -> {
            if (f.isSuccess()) {
                serving(bound);
            } else { // the event loops are shutting down: the socket is closed, bound() says so
                log.debug("udp {}: the bound socket could not be registered: {}", port, f.cause().toString());
            }
        }));
        return bound;
    }

    /** On its event loop, once registered: the socket's sessions are swept while it is open and end with it. */
    private void serving(Channel ch) {
        front = ch;
        long period = Math.max(1, Math.min(30, idleTimeout.toSeconds() / 4));
        var sweep = ch.eventLoop().scheduleAtFixedRate(this::sweepNow, period, period, TimeUnit.SECONDS);
        ch.closeFuture().addListener(x -> {
            sweep.cancel(false);
            for (Session s : new ArrayList<>(sessions.values())) {
                s.close();
            }
        });
    }

    /**
     * The payload to pass on, owned by the caller: a right-sized copy when it sits in a mostly empty 64 KiB read
     * buffer (queued datagrams would otherwise pin 64 KiB each), else the same buffer retained.
     */
    static ByteBuf fitted(ByteBuf content) {
        int n = content.readableBytes();
        if (content.capacity() > 2 * n + 1024) {
            return content.alloc().directBuffer(n).writeBytes(content, content.readerIndex(), n);
        }
        return content.retain();
    }

    /** Ends the sessions idle at the clock's now; completes with how many ended. For tests and the timer. */
    CompletableFuture<Integer> sweepIdle() {
        CompletableFuture<Integer> result = new CompletableFuture<>();
        Channel ch = front;
        if (ch == null) {
            result.complete(0);
        } else {
            ch.eventLoop().execute(() -> result.complete(sweepNow()));
        }
        return result;
    }

    /** Sessions open now (read on the event loop). */
    CompletableFuture<Integer> sessionCount() {
        CompletableFuture<Integer> result = new CompletableFuture<>();
        Channel ch = front;
        if (ch == null) {
            result.complete(0);
        } else {
            ch.eventLoop().execute(() -> result.complete(sessions.size()));
        }
        return result;
    }

    private int sweepNow() {
        Instant now = ctx.clock().instant();
        List<Session> idle = new ArrayList<>();
        for (Session s : sessions.values()) {
            if (!now.isBefore(s.lastActive.plus(idleTimeout))) {
                idle.add(s);
            }
        }
        for (Session s : idle) {
            log.debug("udp {}: session of {} idle since {}, closed", port, s.peer, s.lastActive);
            s.close();
        }
        return idle.size();
    }

    private final class Front extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext c, DatagramPacket packet) {
            InetSocketAddress peer = packet.sender();
            Session s = sessions.get(peer);
            if (s == null) {
                Route r = route(peer);
                if (r == null) {
                    log.debug("udp {}: dropped a datagram from {} (no mapping admits it)", port, peer);
                    return;
                }
                MappingKey key = r.mapping.key();
                RelayBudget.Limit over = ctx.budget().openUdp(key);
                if (over != null) {
                    log.debug("udp {}: dropped a datagram from {} ({} reached)", port, peer, over.key);
                    return;
                }
                s = new Session(c.channel(), peer, r);
                if (!s.backend.isRegistered()) { // its socket could not be created (e.g. out of descriptors)
                    ctx.budget().closeUdp(key);
                    log.debug("udp {}: dropped a datagram from {}: no socket for a session", port, peer);
                    return;
                }
                s.backend.closeFuture().addListener(x -> ctx.budget().closeUdp(key));
                if (!s.backend.isOpen()) { // its connect failed at once (no route): not kept, its slot is back
                    return;
                }
                sessions.put(peer, s);
            }
            s.lastActive = ctx.clock().instant();
            s.route.meter.datagramReceived(packet.content().readableBytes());
            ctx.onTraffic().accept(s.route);
            s.send(fitted(packet.content()));
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext c) {
            for (Session s : unflushed) {
                s.flush();
            }
            unflushed.clear();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
            log.debug("udp {}: {}", port, cause.toString()); // e.g. ICMP port unreachable: the port stays open
        }
    }

    /** One remote peer's flow to the internal host. */
    private final class Session {
        final InetSocketAddress peer;
        final Route route;
        final Channel backend;
        Instant lastActive;
        private ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
        private boolean dirty;

        Session(Channel front, InetSocketAddress peer, Route route) {
            this.peer = peer;
            this.route = route;
            this.lastActive = ctx.clock().instant();
            InetSocketAddress target = new InetSocketAddress(route.mapping.internal().address(), route.mapping.internal().port());
            ChannelFuture f = new Bootstrap().group(front.eventLoop()).channel(ctx.transport().datagramChannel())
                    .option(ChannelOption.SO_RCVBUF, SOCKET_BUFFER)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, DATAGRAM_READS)
                    .handler(new Back(front, this))
                    .connect(target);
            backend = f.channel();
            if (!backend.isRegistered()) {
                log.debug("udp {}: session of {} cannot open a socket: {}", port, peer, f.cause() == null ? "?" : f.cause().toString());
                pending = null;
                return;
            }
            route.track(backend);
            backend.closeFuture().addListener(x -> {
                sessions.remove(peer, this);
                dropPending();
            });
            f.addListener(done -> {
                if (!done.isSuccess()) {
                    log.debug("udp {}: session of {} cannot reach {}: {}", port, peer, target, done.cause().toString());
                    backend.close();
                    return;
                }
                ArrayDeque<ByteBuf> queued = pending;
                pending = null;
                for (ByteBuf b : queued) {
                    backend.write(b, backend.voidPromise());
                }
                backend.flush();
            });
            log.debug("udp {}: session {} -> {}", port, peer, target);
        }

        /** Writes now, flushed at the end of the read burst ({@link Front#channelReadComplete}). */
        void send(ByteBuf payload) {
            if (pending == null) {
                if (backend.isActive()) {
                    backend.write(payload, backend.voidPromise());
                    if (!dirty) {
                        dirty = true;
                        unflushed.add(this);
                    }
                } else {
                    payload.release();
                }
            } else if (pending.size() < MAX_PENDING) {
                pending.add(payload);
            } else {
                payload.release();
            }
        }

        private void dropPending() {
            ArrayDeque<ByteBuf> queued = pending;
            pending = null;
            if (queued != null) {
                queued.forEach(ByteBuf::release);
            }
        }

        void flush() {
            dirty = false;
            backend.flush();
        }

        void close() {
            backend.close();
        }
    }

    /** Replies from the internal host, sent back to the peer from the mapped port. */
    private final class Back extends SimpleChannelInboundHandler<DatagramPacket> {
        private final Channel front;
        private final Session session;

        Back(Channel front, Session session) {
            this.front = front;
            this.session = session;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext c, DatagramPacket reply) {
            if (!front.isActive()) {
                return;
            }
            session.lastActive = ctx.clock().instant();
            session.route.meter.datagramSent(reply.content().readableBytes());
            front.write(new DatagramPacket(fitted(reply.content()), session.peer), front.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext c) {
            front.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
            log.debug("udp {}: session of {}: {}", port, session.peer, cause.toString());
        }
    }
}
