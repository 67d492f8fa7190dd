package io.natgw.dataplane;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.NotYetConnectedException;
import java.util.ArrayDeque;

/**
 * One direction of a TCP relay: what this channel reads is written to {@code peer}. Reads are paced by the peer's
 * writability (autoRead off while it is full, back on when it drains), a FIN is passed on as a half-close, and the
 * pair is closed once both directions are done or either side fails. Both channels live on one event loop.
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(RelayHandler.class);
    private static final int DRAIN_READ = 64 * 1024;
    /** Bounds the drain after a spliced FIN: far more than any socket's receive queue holds (256 MiB). */
    private static final int MAX_DRAIN_READS = 4096;

    private final Channel peer;
    private final Meter meter;
    /** Whether this channel faces the WAN (what it reads is "received"). */
    private final boolean wanSide;
    /**
     * Whether each read is written through to the peer's socket at once (one write per read, while the buffer is
     * still in cache, and the peer's side starts sending sooner) rather than once per read loop.
     */
    private final boolean flushEachRead;
    /** Whether this direction is spliced (epoll {@code splice(2)}) rather than read through this handler. */
    private final boolean spliced;
    /** Whether the peer is still connecting (see the constructor); event loop only. */
    private boolean pending;
    private ArrayDeque<ByteBuf> held;
    private boolean inputShutdownEarly;

    RelayHandler(Channel peer, Meter meter, boolean wanSide) {
        this(peer, meter, wanSide, false, false);
    }

    RelayHandler(Channel peer, Meter meter, boolean wanSide, boolean flushEachRead, boolean spliced) {
        this(peer, meter, wanSide, flushEachRead, spliced, false);
    }

    /**
     * @param pending whether {@code peer} is still connecting: until {@link #peerConnected}, what this channel
     *                delivers is held (with autoRead off that is only what a FIN makes epoll read: a client that
     *                sends and half-closes at once loses nothing), and a FIN is remembered
     */
    RelayHandler(Channel peer, Meter meter, boolean wanSide, boolean flushEachRead, boolean spliced, boolean pending) {
        this.peer = peer;
        this.meter = meter;
        this.wanSide = wanSide;
        this.flushEachRead = flushEachRead;
        this.spliced = spliced;
        this.pending = pending;
    }

    /** Holds a buffer read before the peer connected (pending only). */
    void hold(ByteBuf buf) {
        if (held == null) {
            held = new ArrayDeque<>(2);
        }
        held.add(buf);
    }

    /** The input was shut down (a FIN) before the peer connected: passed on after what was held. */
    void inputShutdownEarly() {
        inputShutdownEarly = true;
    }

    /**
     * The peer is connected (its event loop, which is this channel's): passes what was held on in order, then the FIN
     * if one came, and relays from now on.
     */
    void peerConnected() {
        pending = false;
        ArrayDeque<ByteBuf> h = held;
        held = null;
        if (h != null) {
            for (ByteBuf buf; (buf = h.poll()) != null; ) {
                count(buf.readableBytes());
                peer.write(buf, peer.voidPromise());
            }
        }
        if (inputShutdownEarly) {
            // The FIN goes after the held bytes: shutdownOutput would fail writes still queued.
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> shutdownOutput(peer));
        } else if (h != null) {
            peer.flush();
        }
    }

    private void dropHeld() {
        ArrayDeque<ByteBuf> h = held;
        held = null;
        if (h != null) {
            for (ByteBuf buf; (buf = h.poll()) != null; ) {
                buf.release();
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (pending && msg instanceof ByteBuf buf) {
            hold(buf);
            return;
        }
        if (!(msg instanceof ByteBuf buf) || !peer.isActive()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        count(buf.readableBytes());
        if (flushEachRead) {
            peer.writeAndFlush(buf, peer.voidPromise());
        } else {
            peer.write(buf, peer.voidPromise());
        }
    }

    void count(long bytes) {
        if (wanSide) {
            meter.tcpReadReceived(bytes);
        } else {
            meter.tcpReadSent(bytes);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (pending) {
            return;
        }
        if (!flushEachRead) {
            peer.flush();
        }
        // Paused here, once per read loop, not in channelRead: turning autoRead off in the middle of an epoll read
        // loop lost the last bytes before a FIN about once in ten 8 MiB transfers (TcpRelayTest) on Netty 4.2.18.
        if (!peer.isWritable()) {
            ctx.channel().config().setAutoRead(false); // resumed by the peer's channelWritabilityChanged
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            resumeReading(peer);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent && pending) {
            inputShutdownEarly = true;
        } else if (evt instanceof ChannelInputShutdownEvent) {
            if (spliced) {
                drainAfterSplice(ctx.channel());
            }
            // The sender half-closed: flush what we have and pass the FIN on.
            Channel self = ctx.channel();
            if (!spliced && drained(peer)) {
                shutdownOutput(peer); // nothing queued before it: no empty write and listener to wait for
            } else {
                peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> shutdownOutput(peer));
            }
            if (!peer.isOpen()) {
                // The peer was reset (shutdownOutput closed it): this side ends now, as the peer's channelInactive
                // would make it end a task later, after one more epoll_ctl for a channel about to close.
                endWith(self);
            } else {
                closeIfDone(self);
            }
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        dropHeld();
        endWith(peer);
    }

    /** Closes {@code ch} (the other side ended) once what was queued to it is flushed. */
    private void endWith(Channel ch) {
        if (!spliced && drained(ch)) {
            ch.close(); // nothing to flush first
        } else {
            closeOnFlush(ch);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (log.isDebugEnabled()) { // a peer's reset lands here on every such connection: no message built for nothing
            log.debug("relay {} closed: {}", ctx.channel(), cause.toString());
        }
        ctx.close();
    }

    /**
     * Netty 4.2.18's epoll splice shuts the input down when the FIN arrives although it spliced at most one chunk in
     * that wake-up: the rest of the bytes the sender wrote before its FIN are still queued in the socket and would be
     * lost. They are all queued (TCP delivers the FIN after them), so read them here, synchronously, and queue them
     * to the peer behind what was already spliced (splice output goes through the peer's outbound buffer too), before
     * the FIN is passed on.
     */
    private void drainAfterSplice(Channel self) {
        if (!(self instanceof UnixChannel unix) || !peer.isActive()) {
            return;
        }
        FileDescriptor fd = unix.fd();
        for (int i = 0; i < MAX_DRAIN_READS; i++) {
            ByteBuf buf = self.alloc().directBuffer(DRAIN_READ);
            int n;
            try {
                ByteBuffer nio = buf.internalNioBuffer(0, buf.capacity());
                n = fd.read(nio, nio.position(), nio.limit());
            } catch (IOException e) {
                buf.release();
                log.debug("relay {}: reading what was left after the FIN failed: {}", self, e.toString());
                return;
            }
            if (n <= 0) { // -1: the end of the stream; 0: nothing left
                buf.release();
                return;
            }
            buf.writerIndex(n);
            count(n);
            peer.write(buf, peer.voidPromise());
        }
    }

    /**
     * Passes a FIN on: shuts {@code ch}'s output down once what was queued before it is flushed (call from the flush's
     * listener), then closes it if its input is done too. On epoll the socket is shut down directly: Netty's
     * {@code shutdownOutput()} makes a {@code ChannelOutputShutdownException}, with a full stack trace, on every call
     * (to fail writes still queued, of which there are none here), which was one of the largest costs of a short
     * relayed connection. The socket's own state records the shutdown, so {@code isOutputShutdown()} reads it as
     * before. A peer that reset the connection meanwhile makes {@code shutdown(2)} fail with ENOTCONN, which Netty
     * throws as an unchecked {@link NotYetConnectedException}: then the channel is closed here (its relay closes the
     * other side), as the reset will close it anyway, rather than the exception travelling up the pipeline to the
     * same end, or the channel waiting for its read to meet the reset (an epoll wake-up, a failed read and two
     * {@code epoll_ctl} more per connection a client resets as soon as it has its answer).
     */
    static void shutdownOutput(Channel ch) {
        if (!(ch instanceof DuplexChannel d) || !ch.isActive()) {
            return;
        }
        if (ch instanceof AbstractEpollStreamChannel e && e.fd() instanceof Socket socket) {
            try {
                socket.shutdown(false, true);
            } catch (NotYetConnectedException ex) { // ENOTCONN: the other end reset it: nothing more can pass
                ch.close(); // its relay's channelInactive closes the peer
                return;
            } catch (IOException ex) {
                if (log.isDebugEnabled()) {
                    log.debug("relay {}: shutting the output down failed: {}", ch, ex.toString());
                }
            }
            closeIfDone(ch);
        } else {
            d.shutdownOutput().addListener(x -> closeIfDone(ch));
        }
    }

    /** Turns reading back on unless the input is already shut down (setAutoRead would throw then). */
    static void resumeReading(Channel ch) {
        if (ch.isActive() && !(ch instanceof DuplexChannel d && d.isInputShutdown())) {
            ch.config().setAutoRead(true);
        }
    }

    /** Closes once both directions have seen their FIN. */
    static void closeIfDone(Channel ch) {
        if (ch instanceof DuplexChannel d && d.isInputShutdown() && d.isOutputShutdown() && ch.isOpen()) {
            ch.close();
        }
    }

    /**
     * Whether every byte written to {@code ch} has gone to its socket (its event loop only). Not for spliced
     * relays: splice output waits in the outbound buffer as tasks that count no bytes.
     */
    static boolean drained(Channel ch) {
        ChannelOutboundBuffer b = ch.unsafe().outboundBuffer();
        return b != null && b.size() == 0 && b.totalPendingWriteBytes() == 0;
    }

    static void closeOnFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else if (ch.isOpen()) {
            ch.close();
        }
    }
}
