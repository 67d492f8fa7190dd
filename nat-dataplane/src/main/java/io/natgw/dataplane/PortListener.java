package io.natgw.dataplane;

import io.natgw.conf.Protocol;
import io.natgw.core.Forwarder.ForwardingException;
import io.natgw.core.MappingKey;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The listener of one (protocol, external port) on the WAN address. Several mappings may share it when their
 * remote filters do not overlap (UPnP RemoteHost, PCP FILTER): each new peer is relayed by the first mapping that
 * admits it; a peer no mapping admits is refused. Routes change on the table's writer thread; event loops read the
 * current immutable list.
 */
abstract sealed class PortListener permits TcpListener, UdpListener {

    final RelayContext ctx;
    final Protocol protocol;
    final int port;
    private volatile List<Route> routes = List.of();
    private volatile Channel channel;

    PortListener(RelayContext ctx, Protocol protocol, int port) {
        this.ctx = ctx;
        this.protocol = protocol;
        this.port = port;
    }

    static PortListener of(RelayContext ctx, Protocol protocol, int port) {
        return protocol == Protocol.TCP ? new TcpListener(ctx, port) : new UdpListener(ctx, port);
    }

    /** Starts the bind of the listening channel. */
    abstract ChannelFuture startBind(InetAddress address);

    /**
     * Binds on {@code address} on the calling thread and hands the bound socket to an event loop without waiting for
     * it: at once, or with {@code later} at its next {@link Registrations#flush}. Null when this listener binds on its
     * event loop ({@link #startBind}) instead. A bound socket already queues its peers (TCP's backlog, UDP's receive
     * buffer) until the event loop reads it.
     */
    Channel bindHere(InetAddress address, Registrations later) throws java.io.IOException {
        return null;
    }

    /**
     * Binds on {@code address}, waiting for the result: never call on an event loop. Every failure, including one
     * to create the socket at all (EMFILE: out of descriptors), is a {@link ForwardingException}, and leaves nothing
     * bound or registered. With {@code later}, a socket bound on this thread reaches its event loop at that
     * {@link Registrations#flush} (the table's writer flushes once per batch), otherwise at once.
     */
    final void bind(InetAddress address, Registrations later) throws ForwardingException {
        for (EventExecutor loop : ctx.group()) {
            if (loop.inEventLoop()) {
                throw new IllegalStateException("bind waits for its result and must not run on an event loop");
            }
        }
        Throwable cause;
        Channel failed = null;
        try {
            Channel ready = bindHere(address, later);
            if (ready != null) {
                channel = ready;
                return;
            }
            ChannelFuture f = startBind(address).awaitUninterruptibly();
            if (f.isSuccess()) {
                channel = f.channel();
                return;
            }
            cause = f.cause();
            failed = f.channel();
        } catch (java.io.IOException | RuntimeException e) {
            cause = e;
        }
        if (failed != null) {
            closeQuietly(failed).awaitUninterruptibly();
        }
        throw new ForwardingException("cannot listen on " + protocol.label() + " " + address.getHostAddress() + ":" + port
                + ": " + innermost(cause), cause);
    }

    /** The innermost cause's message: the errno text ("Too many open files"), not Netty's wrapper around it. */
    private static String innermost(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.toString();
    }

    /**
     * Closes a channel whether or not it ever reached an event loop: one whose socket could not be created (Netty's
     * placeholder) or that was never registered has no event loop to close it on, and {@code close()} would throw.
     */
    static ChannelFuture closeQuietly(Channel ch) {
        if (ch.isRegistered()) {
            return ch.close();
        }
        if (ch.isOpen()) { // created but not registered: Netty's placeholder for a socket that failed is never open
            ch.unsafe().closeForcibly();
        }
        return ch.newSucceededFuture();
    }

    /** The listening channel, or null while not bound. */
    final Channel serverChannel() {
        return channel;
    }

    boolean bound() {
        Channel ch = channel;
        return ch != null && ch.isOpen();
    }

    /**
     * Stops accepting new peers (established connections and sessions run on). A socket whose registration still
     * waits in {@link Registrations} is closed here, before any event loop saw it; one handed to its loop is closed
     * on that loop, after its registration task.
     */
    void unbind() {
        Channel ch = channel;
        channel = null;
        if (ch == null) {
            return;
        }
        if (ctx.registrations().cancel(ch)) {
            ch.unsafe().closeForcibly();
            return;
        }
        EventLoop loop = assigned;
        if (!ch.isRegistered() && loop != null) {
            loop.submit(() -> closeQuietly(ch)).awaitUninterruptibly();
        } else {
            closeQuietly(ch).awaitUninterruptibly();
        }
    }

    /** The event loop {@link #handOver} gave a socket bound on the caller's thread (null: bound on its loop). */
    private volatile EventLoop assigned;

    /**
     * Hands a socket {@link #bindHere} bound to the next event loop: {@code register} runs there (at once, or with
     * {@code later} at its next {@link Registrations#flush}), unless the socket was closed before its turn.
     */
    final void handOver(Channel bound, Registrations later, Consumer<EventLoop> register) {
        EventLoop loop = ctx.group().next();
        Runnable task = () -> {
            if (bound.isOpen()) {
                register.accept(loop);
            }
        };
        assigned = loop;
        if (later != null) {
            later.add(loop, bound, task);
        } else {
            loop.execute(task);
        }
    }

    /** The event loop that serves (or is about to serve) the listening channel, or null while not bound. */
    final EventLoop eventLoop() {
        EventLoop loop = assigned;
        Channel ch = channel;
        return loop != null ? loop : ch != null && ch.isRegistered() ? ch.eventLoop() : null;
    }

    /** The route admitting {@code peer}, or null: the peer is refused. */
    final Route route(InetSocketAddress peer) {
        for (Route r : routes) {
            if (r.mapping.remote().admits(peer.getAddress(), peer.getPort())) {
                return r;
            }
        }
        return null;
    }

    /** Adds the route, replacing one with the same key. Returns the replaced one, or null. */
    final synchronized Route put(Route route) {
        List<Route> next = new ArrayList<>(routes.size() + 1);
        Route replaced = null;
        for (Route r : routes) {
            if (r.mapping.key().equals(route.mapping.key())) {
                replaced = r;
            } else {
                next.add(r);
            }
        }
        next.add(route);
        routes = List.copyOf(next);
        routesChanged();
        return replaced;
    }

    /** Called after a route was added: a listener waiting at a budget may accept for the new one. */
    void routesChanged() {
    }

    final synchronized Route remove(MappingKey key) {
        List<Route> next = new ArrayList<>(routes);
        Route removed = null;
        for (Route r : routes) {
            if (r.mapping.key().equals(key)) {
                removed = r;
                next.remove(r);
            }
        }
        routes = List.copyOf(next);
        return removed;
    }

    final Route get(MappingKey key) {
        for (Route r : routes) {
            if (r.mapping.key().equals(key)) {
                return r;
            }
        }
        return null;
    }

    final List<Route> routes() {
        return routes;
    }

    final boolean isEmpty() {
        return routes.isEmpty();
    }
}
