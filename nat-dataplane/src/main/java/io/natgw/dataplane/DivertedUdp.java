package io.natgw.dataplane;

import io.natgw.conf.NatgwConfig;
import io.natgw.conf.Protocol;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.DatagramPacket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Diverted UDP: a session per (LAN source, original destination), relayed upstream from the WAN address; replies
 * go back from the original destination through a transparent socket bound to it.
 */
final class DivertedUdp extends SimpleChannelInboundHandler<DatagramPacket> {

    private static final Logger log = LoggerFactory.getLogger(TransparentDivert.class);
    private final NatgwConfig config;
    private final RelayContext ctx;
    private final TriggerEngine triggers;
    private final Supplier<InetAddress> wanAddress;
    private final Meter meter;
    private final DivertFlows<List<InetSocketAddress>, UdpFlow> flows;
    private ScheduledFuture<?> sweeping;
    private long refused;

    DivertedUdp(NatgwConfig config, RelayContext ctx, TriggerEngine triggers, Supplier<InetAddress> wanAddress, Meter meter) {
        this.config = config;
        this.ctx = ctx;
        this.triggers = triggers;
        this.wanAddress = wanAddress;
        this.meter = meter;
        this.flows = new DivertFlows<>(ctx.settings().udpIdleTimeout(), ctx.settings().budgets().udpSessions(), ctx.clock(),
                UdpFlow::close);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext c, DatagramPacket p) {
        InetSocketAddress lan = p.sender();
        InetSocketAddress dst = p.recipient();
        if (dst == null || !config.network().isLanClient(lan.getAddress())) {
            return;
        }
        if (sweeping == null) {
            long period = flows.sweepPeriodSeconds();
            sweeping = c.channel().eventLoop().scheduleAtFixedRate(flows::sweep, period, period, TimeUnit.SECONDS);
        }
        List<InetSocketAddress> key = List.of(lan, dst);
        DivertFlows.Entry<UdpFlow> flow = flows.get(key);
        if (flow == null) {
            if (flows.full()) {
                if (refused++ % 1000 == 0) {
                    log.warn("divert: {} udp flows held (dataplane.udpSessions): {} -> {} dropped ({} dropped so far)",
                            flows.size(), lan, dst, refused);
                }
                return;
            }
            TransparentDivert.report(triggers, Protocol.UDP, lan.getAddress(), dst.getPort());
            flow = flows.add(key, new UdpFlow(c.channel(), lan, dst, f -> flows.remove(key, f)));
            flow.flow.entry = flow;
        }
        flows.touch(flow);
        meter.datagramSent(p.content().readableBytes());
        flow.flow.send(UdpListener.fitted(p.content()));
    }

    /** The divert socket closed: the sweep stops, and every flow with it. */
    @Override
    public void channelInactive(ChannelHandlerContext c) throws Exception {
        if (sweeping != null) {
            sweeping.cancel(false);
        }
        flows.closeAll();
        super.channelInactive(c);
    }

    private final class UdpFlow {
        final Channel upstream;
        final Channel reply;
        /** Its row in the flow table (set once added; event loop only). */
        DivertFlows.Entry<UdpFlow> entry;

        UdpFlow(Channel divert, InetSocketAddress lan, InetSocketAddress dst, java.util.function.Consumer<UdpFlow> onClose) {
            reply = new Bootstrap().group(divert.eventLoop()).channel(ctx.transport().datagramChannel())
                    .option(EpollChannelOption.IP_TRANSPARENT, true)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .handler(new ChannelInboundHandlerAdapter())
                    .connect(lan, dst).channel();
            upstream = new Bootstrap().group(divert.eventLoop()).channel(ctx.transport().datagramChannel())
                    .option(ChannelOption.RCVBUF_ALLOCATOR, UdpListener.DATAGRAM_READS)
                    .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                        @Override
                        protected void channelRead0(ChannelHandlerContext c, DatagramPacket p) {
                            if (entry != null) {
                                entry.last = ctx.clock().instant();
                            }
                            meter.datagramReceived(p.content().readableBytes());
                            if (reply.isActive()) {
                                reply.writeAndFlush(UdpListener.fitted(p.content()), reply.voidPromise());
                            }
                        }

                        @Override
                        public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
                            log.debug("divert udp {} -> {}: {}", lan, dst, cause.toString());
                        }
                    })
                    .connect(dst, new InetSocketAddress(wanAddress.get(), 0)).channel();
            upstream.closeFuture().addListener(f -> {
                reply.close();
                onClose.accept(this);
            });
        }

        void send(ByteBuf payload) {
            if (upstream.isActive()) {
                upstream.writeAndFlush(payload, upstream.voidPromise());
            } else {
                upstream.eventLoop().execute(() -> {
                    if (upstream.isActive()) {
                        upstream.writeAndFlush(payload, upstream.voidPromise());
                    } else {
                        payload.release();
                    }
                });
            }
        }

        void close() {
            upstream.close();
        }
    }
}
