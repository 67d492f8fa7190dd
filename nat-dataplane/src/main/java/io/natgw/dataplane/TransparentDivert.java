package io.natgw.dataplane;

import io.natgw.conf.NatgwConfig;
import io.natgw.conf.PortRange;
import io.natgw.conf.Protocol;
import io.natgw.conf.TriggerRule;
import io.natgw.core.TrafficStats.Counters;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollMode;
import io.netty.channel.socket.DatagramPacket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Linux gateway mode: sees LAN hosts' outbound flows to trigger ports. Installs its own nftables table (replacing a
 * stale one) whose prerouting rule diverts those flows arriving on a LAN interface with TPROXY to listeners opened
 * with {@code IP_TRANSPARENT}; each diverted flow is reported to the trigger engine and relayed upstream from the WAN
 * address. Policy routing ({@code fwmark 1 lookup 100}, {@code local 0.0.0.0/0 dev lo table 100}) delivers the
 * marked packets locally. Everything installed is removed on stop.
 */
final class TransparentDivert {

    private static final Logger log = LoggerFactory.getLogger(TransparentDivert.class);
    static final String TABLE = "natgw";
    static final String MARK = "1";
    static final String ROUTE_TABLE = "100";

    private final NatgwConfig config;
    private final RelayContext ctx;
    private final TriggerEngine triggers;
    private final Supplier<InetAddress> wanAddress;
    private final Meter meter = new Meter(null);
    private Channel tcp;
    private Channel udp;
    private boolean routing;

    TransparentDivert(NatgwConfig config, RelayContext ctx, TriggerEngine triggers, Supplier<InetAddress> wanAddress) {
        this.config = config;
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
            installRouting();
            apply(triggers.rules());
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
            apply(rules);
        }
    }

    synchronized void stop() {
        if (tcp != null || udp != null) {
            Shell.Result r = Shell.run("nft", "delete", "table", "inet", TABLE);
            if (!r.ok() && !r.output().contains("No such file")) {
                log.warn("cannot remove nftables table inet {}: {}", TABLE, r.output());
            }
        }
        if (routing) {
            Shell.run("ip", "rule", "del", "fwmark", MARK, "lookup", ROUTE_TABLE);
            Shell.run("ip", "route", "del", "local", "0.0.0.0/0", "dev", "lo", "table", ROUTE_TABLE);
            routing = false;
        }
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
                .childHandler(new Diverted());
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
                .handler(new DivertedUdp());
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

    private void installRouting() {
        // Remove leftovers of a crashed run first, so exactly one rule of ours exists.
        for (int i = 0; i < 8 && Shell.run("ip", "rule", "del", "fwmark", MARK, "lookup", ROUTE_TABLE).ok(); i++) {
            log.debug("removed a stale policy routing rule");
        }
        check(Shell.run("ip", "rule", "add", "fwmark", MARK, "lookup", ROUTE_TABLE), "ip rule add fwmark 1 lookup 100");
        routing = true;
        check(Shell.run("ip", "route", "replace", "local", "0.0.0.0/0", "dev", "lo", "table", ROUTE_TABLE),
                "ip route replace local 0.0.0.0/0 dev lo table 100");
    }

    private void apply(List<TriggerRule> rules) {
        String script = ruleset(config.network().lanInterfaces(), rules, port(tcp), port(udp));
        check(Shell.runWithInput(script, "nft", "-f", "-"), "nft -f (table inet " + TABLE + ")");
        log.debug("nftables table inet {} installed:\n{}", TABLE, script);
    }

    /** The whole table: created empty, deleted (a stale one goes too) and written again, in one atomic nft run. */
    static String ruleset(List<String> lanInterfaces, List<TriggerRule> rules, int tcpPort, int udpPort) {
        StringJoiner ifs = new StringJoiner(", ", "{ ", " }");
        lanInterfaces.forEach(i -> ifs.add("\"" + i + "\""));
        StringBuilder sb = new StringBuilder();
        sb.append("table inet ").append(TABLE).append(" {}\n");
        sb.append("delete table inet ").append(TABLE).append('\n');
        sb.append("table inet ").append(TABLE).append(" {\n");
        sb.append("  comment \"natgw tproxy divert\"\n");
        sb.append("  chain divert {\n");
        sb.append("    type filter hook prerouting priority mangle; policy accept;\n");
        for (Protocol p : Protocol.values()) {
            String ports = triggerPorts(rules, p);
            if (ports.isEmpty()) {
                continue;
            }
            int to = p == Protocol.TCP ? tcpPort : udpPort;
            sb.append("    meta nfproto ipv4 iifname ").append(ifs).append(" fib daddr type != local ")
                    .append(p.label()).append(" dport { ").append(ports).append(" } ")
                    .append("tproxy ip to :").append(to).append(" meta mark set ").append(MARK).append(" accept\n");
        }
        sb.append("  }\n}\n");
        return sb.toString();
    }

    private static String triggerPorts(List<TriggerRule> rules, Protocol p) {
        List<String> parts = new ArrayList<>();
        for (TriggerRule r : rules) {
            if (r.enabled() && r.triggerProtocols().contains(p)) {
                for (PortRange range : r.triggerPorts().ranges()) {
                    if (range.last() >= 1) {
                        parts.add(range.first() == range.last() ? Integer.toString(range.first())
                                : Math.max(1, range.first()) + "-" + range.last());
                    }
                }
            }
        }
        return String.join(", ", parts);
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
        Shell.Result table = Shell.run("nft", "list", "table", "inet", TABLE);
        boolean tcpRules = !triggerPorts(triggers.rules(), Protocol.TCP).isEmpty();
        boolean udpRules = !triggerPorts(triggers.rules(), Protocol.UDP).isEmpty();
        boolean anyRule = tcpRules || udpRules;
        if (!table.ok()) {
            problems.add("nftables table inet " + TABLE + " is missing: " + table.output());
        } else {
            if (tcpRules && !table.output().contains("tproxy ip to :" + port(tcp))) {
                problems.add("nftables table inet " + TABLE + " has no tcp tproxy rule to port " + port(tcp));
            }
            if (udpRules && !table.output().contains("tproxy ip to :" + port(udp))) {
                problems.add("nftables table inet " + TABLE + " has no udp tproxy rule to port " + port(udp));
            }
        }
        Shell.Result rule = Shell.run("ip", "rule", "show");
        if (!rule.output().contains("fwmark 0x1 lookup " + ROUTE_TABLE)) {
            problems.add("policy routing rule 'fwmark 0x1 lookup 100' is missing");
        }
        Shell.Result route = Shell.run("ip", "route", "show", "table", ROUTE_TABLE);
        if (!route.output().contains("local default dev lo")) {
            problems.add("route 'local 0.0.0.0/0 dev lo table 100' is missing");
        }
        for (String lan : config.network().lanInterfaces()) {
            if (!Shell.run("ip", "link", "show", "dev", lan).ok()) {
                problems.add("LAN interface '" + lan + "' (network.lanInterfaces) does not exist");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("linux-gateway mode refuses to start: the divert of outbound flows would not work: "
                    + String.join("; ", problems));
        }
        if (!anyRule) {
            log.warn("linux-gateway mode: no enabled trigger rule, so no outbound flow is diverted");
        }
    }

    private static void check(Shell.Result r, String what) {
        if (!r.ok()) {
            throw new IllegalStateException("linux-gateway mode refuses to start: " + what + " failed: " + r.output());
        }
    }

    /** A diverted TCP flow: local address = the original destination. */
    @ChannelHandler.Sharable
    private final class Diverted extends ChannelInboundHandlerAdapter {
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
            log.debug("divert: tcp {} -> {}", lan, dst);
            meter.session(1);
            ch.closeFuture().addListener(f -> meter.session(-1));
            TcpRelay.hold(ch);
            // The incoming ports open before the flow goes upstream: a server that connects back at once
            // (IRC's IDENT lookup) finds them open.
            report(Protocol.TCP, lan.getAddress(), dst.getPort()).whenComplete((r, e) -> ch.eventLoop().execute(() -> {
                if (ch.isActive()) {
                    TcpRelay.connect(ctx, ch, dst, new InetSocketAddress(wanAddress.get(), 0), meter, false);
                }
            }));
        }
    }

    private java.util.concurrent.CompletableFuture<TriggerEngine.Result> report(Protocol p, InetAddress host, int port) {
        return triggers.outbound(p, host, port).whenComplete((result, e) -> {
            if (e != null) {
                log.warn("trigger for {} {} from {} failed: {}", p.label(), port, host.getHostAddress(), e.toString());
            } else {
                log.debug("trigger for {} {} from {}: {}", p.label(), port, host.getHostAddress(), result);
            }
        });
    }

    /**
     * Diverted UDP: a session per (LAN source, original destination), relayed upstream from the WAN address; replies
     * go back from the original destination through a transparent socket bound to it.
     */
    private final class DivertedUdp extends SimpleChannelInboundHandler<DatagramPacket> {
        private final DivertFlows<List<InetSocketAddress>, UdpFlow> flows =
                new DivertFlows<>(ctx.settings().udpIdleTimeout(), ctx.clock(), UdpFlow::close);
        private boolean sweeping;

        @Override
        protected void channelRead0(ChannelHandlerContext c, DatagramPacket p) {
            InetSocketAddress lan = p.sender();
            InetSocketAddress dst = p.recipient();
            if (dst == null || !config.network().isLanClient(lan.getAddress())) {
                return;
            }
            if (!sweeping) {
                sweeping = true;
                long period = flows.sweepPeriodSeconds();
                c.channel().eventLoop().scheduleAtFixedRate(flows::sweep, period, period, TimeUnit.SECONDS);
            }
            List<InetSocketAddress> key = List.of(lan, dst);
            DivertFlows.Entry<UdpFlow> flow = flows.get(key);
            if (flow == null) {
                report(Protocol.UDP, lan.getAddress(), dst.getPort());
                flow = flows.add(key, new UdpFlow(c.channel(), lan, dst, f -> flows.remove(key, f)));
                flow.flow.entry = flow;
            }
            flows.touch(flow);
            meter.datagramSent(p.content().readableBytes());
            flow.flow.send(UdpListener.fitted(p.content()));
        }
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
