package io.natgw.dataplane;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.Socket;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One relayed TCP connection of a mapped port in copy mode on native epoll, without Netty channels: the accepted socket
 * and the socket towards the internal host are registered with one of the relay's event loops as bare
 * {@link EpollIoHandle}s, each once, edge-triggered, for input, output and the peer's half-close, and never re-armed. What one side reads is
 * written straight to the other's socket from one buffer per event loop; only what the other socket does not take at
 * once is kept (in a pooled buffer), and the reading side then waits until it drains. A FIN is passed on as a
 * half-close; the pair closes once both directions are done, or at once when either side fails or resets.
 *
 * <p>Why: a Netty channel pair per connection (channel objects, pipelines, promises, interest changes) cost the relay's
 * event loop about three times HAProxy's user-space time per short connection (the README's relay benchmark). Here a
 * connection is two small objects and the system calls a relay cannot do without: accept, socket, connect, one
 * {@code epoll_ctl} add and modify per socket, the reads and writes, shutdown and close.
 *
 * <p>Everything runs on the connection's event loop; {@link #cut} may be called from any thread.
 */
final class DirectTcpRelay {

    private static final Logger log = LoggerFactory.getLogger(DirectTcpRelay.class);
    private static final int IN = EpollIoOps.EPOLLIN.value();
    private static final int OUT = EpollIoOps.EPOLLOUT.value();
    private static final int RDHUP = EpollIoOps.EPOLLRDHUP.value();
    private static final int ERR = EpollIoOps.EPOLLERR.value();
    /** EPOLLHUP (Linux's value): epoll reports it whether asked for or not; EpollIoOps has no constant for it. */
    private static final int HUP = 0x10;
    private static final int READ_EVENTS = IN | RDHUP | ERR | HUP;
    /** Linux's IPPROTO_TCP and TCP_CORK (netinet/tcp.h). */
    private static final int IPPROTO_TCP = 6;
    private static final int TCP_CORK = 3;
    private static final int WRITE_EVENTS = OUT | ERR | HUP;
    /** The one interest set of both sockets, for their whole life. */
    private static final EpollIoOps INTEREST = EpollIoOps.EPOLLIN.with(EpollIoOps.EPOLLOUT).with(EpollIoOps.EPOLLRDHUP)
            .with(EpollIoOps.EPOLLET);
    /** Each event loop's read buffer (direct: read and written by address, never copied into the heap). */
    private static final FastThreadLocal<ByteBuffer> SCRATCH = new FastThreadLocal<>();

    private final IoEventLoop loop;
    private final RelayContext ctx;
    private final Route route;
    private final InetAddress peerAddress;
    private final Side front;
    private Side back;
    private boolean connected;
    private boolean closed;
    private Future<?> connectTimeout;

    private DirectTcpRelay(IoEventLoop loop, RelayContext ctx, Route route, InetAddress peerAddress, Socket front) {
        this.loop = loop;
        this.ctx = ctx;
        this.route = route;
        this.peerAddress = peerAddress;
        this.front = new Side(front, true, true);
    }

    /**
     * Relays the accepted socket {@code fd} from {@code peer} to {@code target} on {@code loop}: at once if that is the
     * calling thread, else as a task there. The listener hands its connections to the group's loops in turn, as
     * Netty's acceptor does, so that one busy port uses every core: measured, round robin relayed 12 to 25 % more
     * connections per second than keeping each on the listener's loop, the hand-over's wake-ups included. The
     * connection's slot in the budget is already taken for {@code route}; it is given back when the relay closes, or
     * here if it cannot start. Never throws: a failure closes the accepted socket.
     */
    static void start(IoEventLoop loop, RelayContext ctx, int fd, InetSocketAddress peer, Route route,
                      InetSocketAddress target) {
        DirectTcpRelay relay = new DirectTcpRelay(loop, ctx, route, peer.getAddress(), new Socket(fd));
        route.track(relay);
        if (loop.inEventLoop()) {
            relay.connect(peer, target);
            return;
        }
        try {
            loop.execute(() -> relay.connect(peer, target));
        } catch (RejectedExecutionException e) { // the loops are shutting down
            relay.close();
        }
    }

    /** Refuses the accepted socket {@code fd} with a reset, as a closed port would. */
    static void reset(int fd) {
        Socket s = new Socket(fd);
        try {
            s.setSoLinger(0);
        } catch (IOException e) {
            log.debug("relay: SO_LINGER on a refused connection failed: {}", e.toString());
        }
        closeQuietly(s);
    }

    private void connect(InetSocketAddress peer, InetSocketAddress target) {
        try {
            boolean v4 = target.getAddress() instanceof Inet4Address;
            back = new Side(v4 ? StreamSocket.ipv4() : StreamSocket.ipv6(), false, false); // writable once connected
            options(front.socket);
            options(back.socket);
            // Connecting before the backend's registration: an unconnected socket polls as writable and hung up, which
            // the registration would report as an edge at once; a connecting one polls as nothing until it is done.
            boolean now = back.socket.connect(target);
            front.register();
            back.register();
            if (now) {
                connected();
            } else {
                long ms = ctx.settings().connectTimeout().toMillis();
                connectTimeout = loop.schedule(this::connectTimedOut, ms, TimeUnit.MILLISECONDS);
            }
        } catch (IOException | RuntimeException e) {
            // No socket for the backend (out of descriptors), a refused registration, or a connect that failed at once.
            if (log.isDebugEnabled()) {
                log.debug("relay {} -> {}: cannot connect: {}", peer, target, e.toString());
            }
            close();
        }
    }

    /** Netty's defaults for a relayed socket: TCP_NODELAY, and the tuned socket buffers if any. */
    private void options(Socket s) throws IOException {
        s.setTcpNoDelay(true);
        int buffer = ctx.tuning().socketBuffer();
        if (buffer > 0) {
            s.setReceiveBufferSize(buffer);
            s.setSendBufferSize(buffer);
        }
    }

    private void connectTimedOut() {
        if (!connected && !closed) {
            log.debug("relay {}: connecting to the internal host timed out", peerAddress);
            close();
        }
    }

    private void connected() {
        connected = true;
        back.writable = true;
        if (connectTimeout != null) {
            connectTimeout.cancel(false);
            connectTimeout = null;
        }
    }

    /** An epoll event of {@code side}: notes what it says, then moves whatever can move, both ways. */
    private void ready(Side side, int events) {
        if (closed) {
            return;
        }
        if ((events & READ_EVENTS) != 0) {
            side.readable = true;
        }
        if ((events & WRITE_EVENTS) != 0) {
            side.writable = true;
        }
        try {
            if (!connected) {
                if (side != back || !side.writable || !back.socket.finishConnect()) {
                    return; // what the client sends meanwhile waits in its socket, remembered as readable
                }
                connected();
            }
            move(front, back);
            move(back, front);
            if (front.eof && back.eof && front.outputShut && back.outputShut) {
                close();
            }
        } catch (IOException | RuntimeException e) {
            // A reset, a refused connect, a broken pipe: the pair ends (the other side gets a FIN by the close).
            if (log.isDebugEnabled()) {
                log.debug("relay {} closed: {}", peerAddress, e.toString());
            }
            close();
        }
    }

    /**
     * Moves what {@code from} has to read into {@code to}, as far as {@code to}'s socket takes it: what it leaves is kept
     * and {@code from} is not read again until it is gone. After {@code from}'s FIN, and once nothing is kept, shuts
     * {@code to}'s output down.
     */
    private void move(Side from, Side to) throws IOException {
        if (to.pending != null && !flush(to)) {
            return;
        }
        ByteBuffer scratch = scratch();
        while (from.readable && !from.eof) {
            // Read until the socket is empty (or the buffer full) before writing: a FIN read behind the data is then
            // passed on right after it, before the receiver, woken by the data, may have reset the connection.
            int filled = 0;
            try {
                while (from.readable && !from.eof && filled < scratch.capacity()) {
                    int n = from.socket.read(scratch, filled, scratch.capacity());
                    if (n == 0) { // EAGAIN: nothing more until the next edge
                        from.readable = false;
                    } else if (n < 0) {
                        from.eof = true;
                    } else {
                        from.count(n);
                        filled += n;
                    }
                }
            } catch (IOException e) { // a reset behind data: what was read still goes (as far as the socket takes it)
                if (filled > 0 && to.writable) {
                    to.socket.write(scratch, 0, filled);
                }
                throw e;
            }
            if (filled > 0) {
                if (from.eof && !to.outputShut) {
                    cork(to);
                }
                int written = to.writable ? to.socket.write(scratch, 0, filled) : 0;
                if (written < filled) {
                    to.keep(scratch, written, filled);
                    return;
                }
            }
        }
        if (from.eof && !to.outputShut) {
            to.outputShut = true;
            to.socket.shutdown(false, true);
        }
    }

    /**
     * Corks {@code to} (TCP_CORK) before the last bytes it gets: the FIN, which follows at once, then leaves in the
     * same segment as those bytes ({@code shutdown(2)} sends what a cork holds). One segment fewer for both ends, and the
     * receiver, woken once by data and FIN together, cannot have reset the connection before the FIN is passed on (a
     * short exchange's client that resets once answered did so on almost every connection, and {@code shutdown(2)}
     * then failed with ENOTCONN, which Netty throws as an exception with its stack trace). A cork that fails is no
     * harm: the bytes and the FIN go as before.
     */
    private static void cork(Side to) {
        try {
            to.socket.setIntOpt(IPPROTO_TCP, TCP_CORK, 1);
        } catch (IOException e) {
            log.debug("relay: TCP_CORK failed: {}", e.toString());
        }
    }

    /** Writes what {@code to} kept; true when all of it went. */
    private boolean flush(Side to) throws IOException {
        if (!to.writable) {
            return false;
        }
        ByteBuf kept = to.pending;
        ByteBuffer nio = kept.internalNioBuffer(kept.readerIndex(), kept.readableBytes());
        int written = to.socket.write(nio, nio.position(), nio.limit());
        kept.skipBytes(written);
        if (kept.isReadable()) {
            to.writable = false;
            return false;
        }
        kept.release();
        to.pending = null;
        return true;
    }

    private ByteBuffer scratch() {
        ByteBuffer b = SCRATCH.get();
        int size = ctx.tuning().readBytes();
        if (b == null || b.capacity() != size) {
            b = ByteBuffer.allocateDirect(size);
            SCRATCH.set(b);
        }
        return b;
    }

    /**
     * Whether the WAN side's input has ended (its FIN was read) and bytes for it wait because its socket is full: the
     * state a half-closed client that reads late puts the relay in. Asked on the event loop; for tests.
     */
    boolean frontEndedAndWaitsToWrite() throws Exception {
        return loop.submit(() -> front.eof && front.pending != null).get();
    }

    /** Bytes kept for the two sockets (read from one side, not yet taken by the other). Asked on the event loop. */
    int heldBytes() throws Exception {
        return loop.submit(() -> held(front) + (back == null ? 0 : held(back))).get();
    }

    private static int held(Side s) {
        return s.pending == null ? 0 : s.pending.readableBytes();
    }

    /** Closes both sockets (on the event loop), e.g. for a mapping deleted with {@code cutOnDelete}. Any thread. */
    void cut() {
        if (loop.inEventLoop()) {
            close();
        } else {
            loop.execute(this::close);
        }
    }

    /** Closes both sockets and gives the connection's slot back; idempotent (event loop). */
    private void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (connectTimeout != null) {
            connectTimeout.cancel(false);
            connectTimeout = null;
        }
        front.shut();
        if (back != null) {
            back.shut();
        }
        ctx.budget().closeTcp(route.mapping.key(), peerAddress);
        route.untrack(this);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            log.debug("relay: closing a socket failed: {}", e.toString());
        }
    }

    /** One socket of the pair, as its event loop sees it. */
    private final class Side implements EpollIoHandle {
        final Socket socket;
        /** Whether this is the WAN side (what it reads is "received"). */
        final boolean wan;
        IoRegistration registration;
        /** An input edge came and the socket has not been read to EAGAIN since. */
        boolean readable;
        /** The socket took everything written to it since its last output edge (a connecting one: not yet). */
        boolean writable;
        boolean eof;
        boolean outputShut;
        /** What the other side read and this socket did not take yet, or null. */
        ByteBuf pending;

        Side(Socket socket, boolean wan, boolean writable) {
            this.socket = socket;
            this.wan = wan;
            this.writable = writable;
        }

        void register() throws IOException {
            Future<IoRegistration> f = loop.register(this); // on the loop: done when it returns
            if (!f.isSuccess()) {
                throw new IOException("cannot register with the event loop", f.cause());
            }
            registration = f.getNow();
            registration.submit(INTEREST);
        }

        void count(int bytes) {
            if (wan) {
                route.meter.tcpReadReceived(bytes);
            } else {
                route.meter.tcpReadSent(bytes);
            }
        }

        /** Keeps {@code scratch}'s bytes from {@code from} to {@code to}: this socket's buffer was full. */
        void keep(ByteBuffer scratch, int from, int to) {
            writable = false;
            ByteBuf kept = PooledByteBufAllocator.DEFAULT.directBuffer(to - from);
            kept.writeBytes(scratch.duplicate().limit(to).position(from));
            pending = kept;
        }

        @Override
        public FileDescriptor fd() {
            return socket;
        }

        @Override
        public void handle(IoRegistration r, IoEvent event) {
            ready(this, ((EpollIoEvent) event).ops().value());
        }

        /** The event loop is shutting down: closes the whole pair. */
        @Override
        public void close() {
            DirectTcpRelay.this.close();
        }

        /** Closes this socket and ends its registration, dropping what was kept for it (the relay's close). */
        void shut() {
            if (pending != null) {
                pending.release();
                pending = null;
            }
            // Closed before its registration is cancelled: the kernel drops a closed descriptor from the epoll set,
            // so the cancel needs no EPOLL_CTL_DEL.
            closeQuietly(socket);
            if (registration != null) {
                registration.cancel();
            }
        }
    }

    /** A non-blocking stream socket of one address family (Netty's default is a dual-stack IPv6 socket). */
    private static final class StreamSocket extends Socket {
        private StreamSocket(int fd) {
            super(fd);
        }

        static Socket ipv4() {
            return new StreamSocket(newSocketStream0(false));
        }

        static Socket ipv6() {
            return new StreamSocket(newSocketStream0(true));
        }
    }
}
