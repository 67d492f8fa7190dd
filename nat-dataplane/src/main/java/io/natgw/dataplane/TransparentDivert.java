package io.natgw.dataplane;

import io.natgw.conf.NatgwConfig;
import io.natgw.conf.Protocol;
import io.natgw.conf.TriggerRule;
import io.natgw.core.TrafficStats.Counters;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Linux gateway mode: sees LAN hosts' outbound flows to trigger ports. Installs its own nftables table (replacing a
 * stale one) whose prerouting rule diverts those flows arriving on a LAN interface with TPROXY to listeners opened
 * with {@code IP_TRANSPARENT}; each diverted flow is reported to the trigger engine and relayed upstream from the WAN
 * address. Policy routing ({@code fwmark 1 lookup 100}, {@code local 0.0.0.0/0 dev lo table 100}) delivers the
 * marked packets locally. Everything installed is removed on stop. Its jobs: {@link DivertNft} (the nftables table
 * and policy routing), {@link DivertedTcp} (a diverted connection), {@link DivertedUdp} (diverted datagrams and their
 * flow table, {@link DivertFlows}); this class opens the listeners, ties them together and proves the whole.
 */
final class TransparentDivert {

    private static final Logger log = LoggerFactory.getLogger(TransparentDivert.class);
    static final String TABLE = DivertNft.TABLE;

    private final NatgwConfig config;
    private final RelayContext ctx;
    private final TriggerEngine triggers;
    private final Supplier<InetAddress> wanAddress;
    private final Meter meter = new Meter(null);
    private Channel tcp;
    private Channel udp;
    private final DivertNft nft;

    TransparentDivert(NatgwConfig config, RelayContext ctx, TriggerEngine triggers, Supplier<InetAddress> wanAddress) {
        this.config = config;
        this.nft = new DivertNft(config);
        this.ctx = ctx;
        this.triggers = triggers;
        this.wanAddress = wanAddress;
    }

    /** Installs the divert and proves it, or throws {@link IllegalStateException} saying what is wrong. */
    synchronized void start() {
        if (config.network().lanInterfaces().isEmpty()) {
            throw new IllegalStateException("linux-gateway mode needs network.lanInterfaces (the LAN interface names) in "
                    + config.source());
        }
        try {
            tcp = bindTcp();
            udp = bindUdp();
        } catch (RuntimeException e) {
            stop();
            throw new IllegalStateException("linux-gateway mode cannot open its transparent listeners (needs root or "
                    + "CAP_NET_ADMIN): " + e.getMessage(), e);
        }
        try {
            nft.installRouting();
            nft.apply(triggers.rules(), port(tcp), port(udp));
            selfCheck();
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
        log.info("linux-gateway divert active: nftables table inet {} on {} -> tcp {} / udp {} (transparent)", TABLE,
                config.network().lanInterfaces(), port(tcp), port(udp));
    }

    /** What the diverted flows carried since start (received: towards the LAN host). */
    Counters totals() {
        return meter.snapshot();
    }

    /** The admin API changed the rules: divert the new trigger ports. */
    synchronized void rulesChanged(List<TriggerRule> rules) {
        if (tcp != null) {
            nft.apply(rules, port(tcp), port(udp));
        }
    }

    synchronized void stop() {
        if (tcp != null || udp != null) {
            nft.removeTable();
        }
        nft.removeRouting();
        for (Channel ch : new Channel[] {tcp, udp}) {
            if (ch != null) {
                ch.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
            }
        }
        if (tcp != null) {
            log.info("linux-gateway divert removed");
        }
        tcp = null;
        udp = null;
    }

    private Channel bindTcp() {
        ServerBootstrap b = new ServerBootstrap().group(ctx.group()).channel(ctx.transport().serverChannel())
                .option(EpollChannelOption.IP_TRANSPARENT, true)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, TcpRelay.WATER_MARK)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, TcpRelay.readSizes(ctx.tuning()))
                .childHandler(new DivertedTcp(config, ctx, triggers, wanAddress, meter));
        if (TcpRelay.splicing(ctx)) {
            b.childOption(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED);
        }
        return await(b.bind(new InetSocketAddress(0)));
    }

    private Channel bindUdp() {
        Bootstrap b = new Bootstrap().group(ctx.group()).channel(ctx.transport().datagramChannel())
                .option(EpollChannelOption.IP_TRANSPARENT, true)
                .option(EpollChannelOption.IP_RECVORIGDSTADDR, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, UdpListener.DATAGRAM_READS)
                .handler(new DivertedUdp(config, ctx, triggers, wanAddress, meter));
        return await(b.bind(new InetSocketAddress(0)));
    }

    private static Channel await(ChannelFuture f) {
        f.awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new IllegalStateException(f.cause().getMessage(), f.cause());
        }
        return f.channel();
    }

    private static int port(Channel ch) {
        return ((InetSocketAddress) ch.localAddress()).getPort();
    }

    /** The whole table (see {@link DivertNft#ruleset}). */
    static String ruleset(List<String> lanInterfaces, List<TriggerRule> rules, int tcpPort, int udpPort) {
        return DivertNft.ruleset(lanInterfaces, rules, tcpPort, udpPort);
    }

    /**
     * Proves the pieces a working divert needs are in place: a rule that TPROXYs to our port without IP_TRANSPARENT
     * on the listener silently fails open (the flow is forwarded untouched), so each piece is read back.
     */
    private void selfCheck() {
        List<String> problems = new ArrayList<>();
        if (!Boolean.TRUE.equals(tcp.config().getOption(EpollChannelOption.IP_TRANSPARENT))) {
            problems.add("the tcp listener is not IP_TRANSPARENT");
        }
        if (!Boolean.TRUE.equals(udp.config().getOption(EpollChannelOption.IP_TRANSPARENT))) {
            problems.add("the udp listener is not IP_TRANSPARENT");
        }
        problems.addAll(nft.problems(triggers.rules(), port(tcp), port(udp)));
        boolean anyRule = !DivertNft.triggerPorts(triggers.rules(), Protocol.TCP).isEmpty()
                || !DivertNft.triggerPorts(triggers.rules(), Protocol.UDP).isEmpty();
        if (!problems.isEmpty()) {
            throw new IllegalStateException("linux-gateway mode refuses to start: the divert of outbound flows would not work: "
                    + String.join("; ", problems));
        }
        if (!anyRule) {
            log.warn("linux-gateway mode: no enabled trigger rule, so no outbound flow is diverted");
        }
    }

    /** Reports a diverted flow to the trigger engine, logging what became of it. */
    static java.util.concurrent.CompletableFuture<TriggerEngine.Result> report(TriggerEngine triggers, Protocol p,
            InetAddress host, int port) {
        return triggers.outbound(p, host, port).whenComplete((result, e) -> {
            if (e != null) {
                log.warn("trigger for {} {} from {} failed: {}", p.label(), port, host.getHostAddress(), e.toString());
            } else {
                log.debug("trigger for {} {} from {}: {}", p.label(), port, host.getHostAddress(), result);
            }
        });
    }

}
