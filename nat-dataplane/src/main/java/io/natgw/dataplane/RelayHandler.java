package io.natgw.dataplane;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One direction of a TCP relay: what this channel reads is written to {@code peer}. Reads are paced by the peer's
 * writability (autoRead off while it is full, back on when it drains), a FIN is passed on as a half-close, and the
 * pair is closed once both directions are done or either side fails. Both channels live on one event loop.
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(RelayHandler.class);

    private final Channel peer;
    private final Meter meter;
    /** Whether this channel faces the WAN (what it reads is "received"). */
    private final boolean wanSide;

    RelayHandler(Channel peer, Meter meter, boolean wanSide) {
        this.peer = peer;
        this.meter = meter;
        this.wanSide = wanSide;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf) || !peer.isActive()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        count(buf.readableBytes());
        peer.write(buf, peer.voidPromise());
    }

    void count(long bytes) {
        if (wanSide) {
            meter.received(bytes);
        } else {
            meter.sent(bytes);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        peer.flush();
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
        if (evt instanceof ChannelInputShutdownEvent) {
            // The sender half-closed: flush what we have and pass the FIN on.
            Channel self = ctx.channel();
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                if (peer instanceof DuplexChannel d && peer.isActive()) {
                    d.shutdownOutput().addListener(x -> closeIfDone(peer));
                }
            });
            closeIfDone(self);
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closeOnFlush(peer);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("relay {} closed: {}", ctx.channel(), cause.toString());
        ctx.close();
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

    static void closeOnFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else if (ch.isOpen()) {
            ch.close();
        }
    }
}
