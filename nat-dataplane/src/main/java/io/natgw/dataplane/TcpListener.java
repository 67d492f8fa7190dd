package io.natgw.dataplane;

import io.natgw.conf.Protocol;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/** A TCP external port: each accepted peer is relayed to the internal host of the mapping that admits it. */
final class TcpListener extends PortListener {

    private static final Logger log = LoggerFactory.getLogger(TcpListener.class);

    TcpListener(RelayContext ctx, int port) {
        super(ctx, Protocol.TCP, port);
    }

    @Override
    ChannelFuture startBind(InetAddress address) {
        ServerBootstrap b = new ServerBootstrap().group(ctx.group()).channel(ctx.transport().serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, TcpRelay.WATER_MARK)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, TcpRelay.readSizes(ctx.tuning()))
                .childHandler(new Accept());
        if (ctx.tuning().socketBuffer() > 0) {
            b.childOption(ChannelOption.SO_RCVBUF, ctx.tuning().socketBuffer()).childOption(ChannelOption.SO_SNDBUF, ctx.tuning().socketBuffer());
        }
        if (TcpRelay.splicing(ctx)) {
            b.childOption(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED);
        }
        return b.bind(address, port);
    }

    @ChannelHandler.Sharable
    private final class Accept extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext c) {
            Channel ch = c.channel();
            c.pipeline().remove(this);
            InetSocketAddress peer = (InetSocketAddress) ch.remoteAddress();
            Route r = route(peer);
            if (r == null) {
                log.debug("tcp {}: refused {} (no mapping admits it)", port, peer);
                ch.config().setOption(ChannelOption.SO_LINGER, 0); // answer with RST, as a closed port would
                ch.close();
                return;
            }
            r.track(ch);
            ctx.onTraffic().accept(r);
            InetSocketAddress target = new InetSocketAddress(r.mapping.internal().address(), r.mapping.internal().port());
            log.debug("tcp {}: {} -> {}", port, peer, target);
            TcpRelay.connect(ctx, ch, target, null, r.meter, true);
        }
    }
}
