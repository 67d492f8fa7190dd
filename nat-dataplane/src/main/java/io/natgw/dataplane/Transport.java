package io.natgw.dataplane;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/** An I/O transport (native epoll, io_uring or NIO): the event loops and the channel classes that go with them. */
record Transport(String name, IoHandlerFactory ioHandler, Class<? extends ServerChannel> serverChannel,
                 Class<? extends SocketChannel> socketChannel, Class<? extends DatagramChannel> datagramChannel) {

    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    /** The names {@link #named} accepts. */
    static final List<String> NAMES = List.of("auto", "epoll", "io_uring", "nio");

    /**
     * Native epoll where it loads, NIO otherwise. The epoll event loops carry {@link EpollKeepRegistered}, the work-around
     * for Netty 4.2.18 dropping a half-closed channel from the epoll set. io_uring only when asked for by name: it
     * relayed no faster here (see the README's relay benchmark).
     */
    static Transport best() {
        return of(choose("auto", Epoll.isAvailable(), false));
    }

    /**
     * The transport named by {@code choice} ({@code auto}, {@code epoll}, {@code io_uring}, {@code nio}); one that does
     * not load falls back to {@link #best()}, with a warning naming why it did not load.
     */
    static Transport named(String choice) {
        String name = choose(choice, Epoll.isAvailable(), IoUring.isAvailable());
        String wanted = choice.equals("auto") ? "epoll" : choice;
        if (!name.equals(wanted)) {
            Throwable why = unavailability(wanted);
            log.warn("the {} transport did not load ({}): using {}", wanted, why == null ? "unknown cause" : why.toString(),
                    name);
        }
        return of(name);
    }

    /** The fallback rule alone: which transport {@code choice} gives when the native ones load or not. */
    static String choose(String choice, boolean epollLoads, boolean ioUringLoads) {
        return switch (choice) {
            case "auto", "epoll" -> epollLoads ? "epoll" : "nio";
            case "io_uring" -> ioUringLoads ? "io_uring" : choose("auto", epollLoads, false);
            case "nio" -> "nio";
            default -> throw new IllegalArgumentException("unknown transport '" + choice + "' (one of " + NAMES + ")");
        };
    }

    private static Transport of(String name) {
        return switch (name) {
            case "epoll" -> nativeEpoll();
            case "io_uring" -> ioUring();
            default -> nio();
        };
    }

    /** Whether the transport {@code name} loads here, and if not, why (null when it loads). */
    static Throwable unavailability(String name) {
        return switch (name) {
            case "epoll" -> Epoll.isAvailable() ? null : Epoll.unavailabilityCause();
            case "io_uring" -> IoUring.isAvailable() ? null : IoUring.unavailabilityCause();
            case "nio" -> null;
            default -> throw new IllegalArgumentException("unknown transport '" + name + "' (one of " + NAMES + ")");
        };
    }

    static Transport nativeEpoll() {
        return new Transport("epoll", new EpollKeepRegistered(), EpollServerSocketChannel.class,
                EpollSocketChannel.class, EpollDatagramChannel.class);
    }

    static Transport ioUring() {
        return new Transport("io_uring", IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class,
                IoUringSocketChannel.class, IoUringDatagramChannel.class);
    }

    static Transport nio() {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class,
                NioDatagramChannel.class);
    }

    boolean epoll() {
        return "epoll".equals(name);
    }

    EventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, ioHandler);
    }
}
