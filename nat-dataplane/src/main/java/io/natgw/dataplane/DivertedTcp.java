package io.natgw.dataplane;

import io.natgw.conf.NatgwConfig;
import io.natgw.conf.Protocol;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A diverted TCP flow: local address = the original destination. At most the dataplane's {@code tcpConnections}
 * budget of diverted flows are open at once; one more is closed as it is accepted.
 */
@ChannelHandler.Sharable
final class DivertedTcp extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(TransparentDivert.class);
    private final NatgwConfig config;
    private final RelayContext ctx;
    private final TriggerEngine triggers;
    private final Supplier<InetAddress> wanAddress;
    private final Meter meter;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong refused = new AtomicLong();

    DivertedTcp(NatgwConfig config, RelayContext ctx, TriggerEngine triggers, Supplier<InetAddress> wanAddress, Meter meter) {
        this.config = config;
        this.ctx = ctx;
        this.triggers = triggers;
        this.wanAddress = wanAddress;
        this.meter = meter;
    }

    @Override
    public void channelActive(ChannelHandlerContext c) {
        Channel ch = c.channel();
        c.pipeline().remove(this);
        InetSocketAddress lan = (InetSocketAddress) ch.remoteAddress();
        InetSocketAddress dst = (InetSocketAddress) ch.localAddress();
        if (!config.network().isLanClient(lan.getAddress())) {
            log.debug("divert: {} -> {} is not from a LAN client, closed", lan, dst);
            ch.close();
            return;
        }
        int most = ctx.settings().budgets().tcpConnections();
        if (open.incrementAndGet() > most) {
            open.decrementAndGet();
            long n = refused.incrementAndGet();
            if (n % 1000 == 1) {
                log.warn("divert: {} tcp flows open (dataplane.tcpConnections): {} -> {} closed ({} closed so far)",
                        most, lan, dst, n);
            }
            ch.close();
            return;
        }
        ch.closeFuture().addListener(f -> open.decrementAndGet());
        log.debug("divert: tcp {} -> {}", lan, dst);
        meter.session(1);
        ch.closeFuture().addListener(f -> meter.session(-1));
        TcpRelay.Early early = TcpRelay.hold(ch);
        // The incoming ports open before the flow goes upstream: a server that connects back at once
        // (IRC's IDENT lookup) finds them open.
        TransparentDivert.report(triggers, Protocol.TCP, lan.getAddress(), dst.getPort()).whenComplete((r, e) -> ch.eventLoop().execute(() -> {
            if (ch.isActive()) {
                TcpRelay.connect(ctx, ch, early, dst, new InetSocketAddress(wanAddress.get(), 0), meter, false);
            }
        }));
    }
}
