package io.natgw.pcp;

import io.natgw.conf.NatgwConfig;
import io.natgw.core.MappingTable;
import io.natgw.core.TableListener;
import io.natgw.core.Change;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.unix.Socket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The NAT-PMP and PCP server: one UDP socket per configured LAN address (IPv4 or IPv6) on {@code pcp.port}, so
 * every reply leaves from the address the client sent to. Version 0 is NAT-PMP (IPv4 only: over IPv6 it is
 * dropped), 2 is PCP, anything else is answered with PCP UNSUPP_VERSION. Datagrams from outside
 * {@code network.lanClients} are dropped, as are those over a client's rate. Policy is the table's; this server
 * only translates.
 */
public final class PcpServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PcpServer.class);

    /** RFC 6886 §3.2.1, RFC 6887 §14.1.3: announcements go to all-hosts on the client port. */
    public static final InetSocketAddress ANNOUNCE_TARGET = new InetSocketAddress(ipv4(224, 0, 0, 1), 5350);

    private static final Inet6Address ALL_NODES = allNodes();

    /** RFC 6887 §14.1.3 over IPv6: all-nodes ff02::1 on the client port, scoped to each LAN socket's link when sent. */
    public static final InetSocketAddress ANNOUNCE_TARGET6 = new InetSocketAddress(ALL_NODES, 5350);

    static final int RECEIVE_BUFFER = 1 << 20;

    private final NatgwConfig config;
    private final MappingTable table;
    private final InetSocketAddress announceTarget;
    private final InetSocketAddress announceTarget6;
    private final Announcer.Scheduler announceSchedule; // null: the event loop's timer
    private final StatsCounter stats = new StatsCounter();
    private final NatPmpHandler natPmp;
    private final PcpHandler pcp;
    private final RateLimiter limiter;
    private final List<Channel> channels = new ArrayList<>();
    private EventLoopGroup group;
    private Announcer announcer;
    private TableListener addressWatch;
    private volatile boolean running;
    /** Held (shared) while a reply is sent on a socket from outside its event loop; exclusively while they close. */
    private final ReentrantReadWriteLock sendLock = new ReentrantReadWriteLock();
    /**
     * The native send needs a direct buffer: one small one per sending thread (the table's writer), not Netty's pooled
     * allocator, whose first allocation on a thread of its own would take a whole chunk (megabytes of resident memory).
     */
    private static final ThreadLocal<ByteBuffer> SEND_BUFFER =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(PcpCodec.MAX_LENGTH));
    /** Replies sent straight from the thread that completed them (not the event loop's). */
    private final java.util.concurrent.atomic.LongAdder sentOffLoop = new java.util.concurrent.atomic.LongAdder();

    public PcpServer(NatgwConfig config, MappingTable table) {
        this(config, table, ANNOUNCE_TARGET, ANNOUNCE_TARGET6, null);
    }

    /** For tests: IPv4 announcements to another address than 224.0.0.1:5350, at times {@code announceSchedule} keeps. */
    PcpServer(NatgwConfig config, MappingTable table, InetSocketAddress announceTarget, Announcer.Scheduler announceSchedule) {
        this(config, table, announceTarget, ANNOUNCE_TARGET6, announceSchedule);
    }

    /**
     * For tests: announcements from IPv4 sockets to {@code announceTarget}, from IPv6 ones to {@code announceTarget6}
     * (ff02::1 is scoped to the socket's link; any other address is used as given).
     */
    PcpServer(NatgwConfig config, MappingTable table, InetSocketAddress announceTarget, InetSocketAddress announceTarget6,
              Announcer.Scheduler announceSchedule) {
        this.config = config;
        this.table = table;
        this.announceTarget = announceTarget;
        this.announceTarget6 = announceTarget6;
        this.announceSchedule = announceSchedule;
        this.natPmp = new NatPmpHandler(table, stats, config.network());
        this.pcp = new PcpHandler(table, stats, config.network());
        this.limiter = new RateLimiter(config.pcp().rateLimitPerSecond(), table.clock());
    }

    /** Binds every LAN address; returns once all are bound, or throws (leaving nothing open). */
    public synchronized void start() throws IOException {
        if (group != null) {
            throw new IllegalStateException("the NAT-PMP/PCP server was started already");
        }
        boolean epoll = Epoll.isAvailable();
        group = new MultiThreadIoEventLoopGroup(1, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        Bootstrap b = new Bootstrap().group(group)
                .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, RECEIVE_BUFFER) // bursts of client retries must not be lost
                .handler(new Inbound());
        try {
            for (InetAddress lan : config.network().lanAddresses()) {
                Bootstrap perAddress = b.clone();
                if (!lan.isLoopbackAddress() && !lan.isAnyLocalAddress() && lan instanceof Inet4Address) {
                    perAddress.option(ChannelOption.IP_MULTICAST_ADDR, lan); // announce through this LAN interface
                }
                ChannelFuture f = perAddress.bind(lan, config.pcp().port()).awaitUninterruptibly();
                if (!f.isSuccess()) {
                    throw new IOException("cannot listen for NAT-PMP/PCP on " + lan.getHostAddress() + ":"
                            + config.pcp().port() + ": " + f.cause().getMessage(), f.cause());
                }
                channels.add(f.channel());
            }
        } catch (IOException | RuntimeException e) {
            shutdown();
            throw e;
        }
        running = true;
        LOG.info("nat-pmp/pcp listening on {} ({})", localAddresses(), epoll ? "epoll" : "nio");
        if (config.pcp().announce() && !channels.isEmpty()) {
            List<Announcer.Destination> destinations = new ArrayList<>();
            for (Channel c : channels) {
                InetAddress local = ((InetSocketAddress) c.localAddress()).getAddress();
                destinations.add(local instanceof Inet6Address lan6
                        ? new Announcer.Destination(c, onLink(announceTarget6, lan6), false)
                        : new Announcer.Destination(c, announceTarget, true));
            }
            announcer = new Announcer(destinations, this::announcements, announceSchedule);
            addressWatch = new TableListener() {
                @Override
                public void committed(List<Change> changes) {
                }

                @Override
                public void externalAddressChanged(InetAddress previous, InetAddress current) {
                    if (running) { // a change already being delivered while close() runs
                        LOG.info("announcing external address {} to {}", current.getHostAddress(), destinations.stream()
                                .map(d -> d.target().getAddress().getHostAddress()).distinct().toList());
                        announcer.announce();
                    }
                }
            };
            table.addListener(addressWatch);
            announcer.announce();
        }
    }

    /** The bound sockets, one per LAN address (with the real port when {@code pcp.port} is 0). */
    public synchronized List<InetSocketAddress> localAddresses() {
        return channels.stream().map(c -> (InetSocketAddress) c.localAddress()).toList();
    }

    public PcpStats stats() {
        return stats.snapshot();
    }

    /** For tests: the event loop of the first LAN address's socket. */
    synchronized io.netty.channel.EventLoop eventLoop() {
        return channels.get(0).eventLoop();
    }

    /** For tests: how many replies went out straight from the table's thread, without a hand-off to the event loop. */
    long repliesSentOffLoop() {
        return sentOffLoop.sum();
    }

    /** NAT-PMP external address response (when there is a usable IPv4 one) and PCP ANNOUNCE, current epoch and address. */
    private Announcer.Messages announcements() {
        byte[] natPmp = null;
        InetAddress external = config.network().reported(table.externalAddress());
        if (external instanceof Inet4Address v4 && config.network().unreachable(table.externalAddress()).isEmpty()) {
            natPmp = NatPmpCodec.encodeResponse(new NatPmpResponse.ExternalAddress(NatPmpResultCode.SUCCESS,
                    table.epochSeconds(), v4));
        }
        return new Announcer.Messages(natPmp, PcpCodec.encodeResponse(new PcpResponse(PcpOpcode.ANNOUNCE.wire(),
                PcpResultCode.SUCCESS, 0, table.epochSeconds(), new PcpOpcodeData.Announce(), List.of())));
    }

    /**
     * A link-scoped multicast target (ff02::1) gets the scope of the LAN address's interface, so the datagram leaves
     * through that link (the kernel needs an interface for link-local multicast); any other target is used as given.
     */
    static InetSocketAddress onLink(InetSocketAddress target, Inet6Address lan) {
        if (!(target.getAddress() instanceof Inet6Address t) || !t.isMCLinkLocal() || t.getScopeId() != 0) {
            return target;
        }
        NetworkInterface nif = null;
        try {
            nif = lan.getScopedInterface() != null ? lan.getScopedInterface() : NetworkInterface.getByInetAddress(lan);
        } catch (SocketException e) {
            LOG.debug("no interface for {}: {}", lan.getHostAddress(), e.toString());
        }
        if (nif == null) {
            return target; // sending fails and is logged at DEBUG; the server keeps answering
        }
        try {
            return new InetSocketAddress(Inet6Address.getByAddress(null, t.getAddress(), nif), target.getPort());
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public synchronized void close() {
        if (group == null) {
            return;
        }
        running = false;
        if (addressWatch != null) {
            table.removeListener(addressWatch); // the table may outlive this server
            addressWatch = null;
        }
        if (announcer != null) {
            announcer.stop();
        }
        shutdown();
        LOG.info("nat-pmp/pcp stopped");
    }

    private void shutdown() {
        sendLock.writeLock().lock(); // no reply is being sent from another thread while the sockets close
        try {
            running = false;
            for (Channel c : channels) {
                c.close().awaitUninterruptibly();
            }
        } finally {
            sendLock.writeLock().unlock();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        group = null;
    }

    /**
     * Version byte first (RFC 6887 §9): 0 NAT-PMP, 2 PCP, else PCP UNSUPP_VERSION. NAT-PMP over IPv6 is dropped
     * unanswered (DEBUG, counted as ignored): RFC 6886 defines it for IPv4 only (its address answer holds an IPv4
     * address), no NAT-PMP client sends it over IPv6, and IPv6 hosts have PCP on the same socket.
     */
    private CompletableFuture<byte[]> dispatch(InetAddress client, ByteBuffer datagram) {
        int version = datagram.remaining() > 0 ? datagram.get(0) & 0xff : -1;
        if (version == NatPmpCodec.VERSION) {
            if (client instanceof Inet6Address) {
                LOG.debug("nat-pmp from {} ignored: NAT-PMP is IPv4-only (RFC 6886); IPv6 hosts use PCP", client.getHostAddress());
                stats.ignored();
                return CompletableFuture.completedFuture(null);
            }
            return natPmp.handle(client, datagram);
        }
        return pcp.handle(client, datagram); // PCP's decoder answers any other version with UNSUPP_VERSION
    }

    /**
     * On a router (a LAN address that is not loopback), a datagram whose source is one of the gateway's own LAN or
     * WAN addresses is spoofed: no LAN host has that address (issue 10). In the loopback sandbox the LAN clients
     * share 127.0.0.1 with the gateway, so the rule does not apply there.
     */
    private boolean fromGatewayItself(InetAddress client) {
        NatgwConfig.Network n = config.network();
        if (n.lanAddresses().stream().allMatch(InetAddress::isLoopbackAddress)) {
            return false;
        }
        return n.lanAddresses().contains(client) || client.equals(n.wanAddress()) || client.equals(table.externalAddress());
    }

    /** One job: LAN and rate checks, copy the bytes out, dispatch, write the reply back through this socket. Stateless. */
    @ChannelHandler.Sharable
    private final class Inbound extends SimpleChannelInboundHandler<DatagramPacket> {

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            InetSocketAddress sender = packet.sender(); // replies go back here, with its scope
            InetAddress client = unscoped(sender.getAddress());
            if (!config.network().isLanClient(client)) {
                stats.notFromLan();
                LOG.debug("dropped datagram from {}: not a LAN client", sender);
                return;
            }
            if (fromGatewayItself(client)) {
                stats.notFromLan();
                LOG.debug("dropped datagram from {}: the gateway's own address (spoofed)", sender);
                return;
            }
            if (!limiter.tryAcquire(client)) {
                stats.rateLimited();
                return;
            }
            ByteBuf content = packet.content();
            byte[] bytes = new byte[Math.min(content.readableBytes(), 2 * PcpCodec.MAX_LENGTH)];
            content.getBytes(content.readerIndex(), bytes);
            CompletableFuture<byte[]> reply;
            try {
                reply = dispatch(client, ByteBuffer.wrap(bytes));
            } catch (RuntimeException e) {
                LOG.warn("datagram from {} could not be handled: {}", sender, e.toString());
                return;
            }
            reply.whenComplete((out, failure) -> {
                if (failure != null) {
                    LOG.warn("datagram from {} could not be handled: {}", sender, failure.toString());
                } else if (out != null && ctx.channel().isActive()) {
                    send(ctx, out, sender);
                }
            });
        }

        /**
         * On the event loop: written there. Elsewhere (the table's writer thread, which completes the futures of
         * mapping requests) a native epoll socket sends at once from this thread, saving the hand-off to the event
         * loop (a wake-up per request, and on a busy machine a wait for a CPU); anything else, or a send that does
         * not go through at once, is handed to the event loop as before. {@link #sendLock} keeps the socket from
         * being closed (and its descriptor number reused) during such a send: {@link PcpServer#shutdown} is the only
         * place a socket is closed (Netty's epoll datagram channel passes a read error down the pipeline without
         * closing, and {@link #exceptionCaught} only logs it).
         */
        private void send(ChannelHandlerContext ctx, byte[] out, InetSocketAddress to) {
            Channel ch = ctx.channel();
            if (!ch.eventLoop().inEventLoop() && ch instanceof EpollDatagramChannel epoll && sendNow(epoll, out, to)) {
                return;
            }
            ctx.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(out), to));
        }

        private boolean sendNow(EpollDatagramChannel ch, byte[] out, InetSocketAddress to) {
            ByteBuffer direct = SEND_BUFFER.get();
            if (out.length > direct.capacity()) {
                return false;
            }
            sendLock.readLock().lock();
            try {
                if (!running || !ch.isOpen()) {
                    return false;
                }
                sentOffLoop.increment(); // before the send: a test reads it once the answer has arrived
                direct.clear();
                direct.put(out).flip();
                if (((Socket) ch.fd()).sendTo(direct, 0, out.length, to.getAddress(), to.getPort()) != out.length) {
                    sentOffLoop.decrement();
                    return false; // the socket's buffer is full (EAGAIN): the event loop waits until it can write
                }
                return true;
            } catch (IOException | RuntimeException e) {
                sentOffLoop.decrement();
                LOG.debug("nat-pmp/pcp reply to {} not sent from {}: {}; handing it to the event loop", to,
                        Thread.currentThread().getName(), e.toString());
                return false;
            } finally {
                sendLock.readLock().unlock();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // e.g. ICMP port unreachable surfacing as a socket error: a client's problem, not the server's
            LOG.debug("nat-pmp/pcp socket {}: {}", ctx.channel().localAddress(), cause.toString());
        }
    }

    private static InetAddress ipv4(int a, int b, int c, int d) {
        return NatPmpCodec.ipv4(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
    }

    /**
     * The client as the table and the logs know it: an IPv6 source without the socket's scope id (Netty gives "%0"),
     * which no owner, rule or log line should carry.
     */
    static InetAddress unscoped(InetAddress a) {
        if (!(a instanceof Inet6Address v6)) {
            return a;
        }
        try {
            return InetAddress.getByAddress(v6.getAddress());
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Inet6Address allNodes() {
        byte[] a = new byte[16];
        a[0] = (byte) 0xff;
        a[1] = 0x02;
        a[15] = 1;
        try {
            return (Inet6Address) InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
