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

import java.util.List;

/** An I/O transport (native epoll, io_uring or NIO): the event loops and the channel classes that go with them. */
record Transport(String name, IoHandlerFactory ioHandler, Class<? extends ServerChannel> serverChannel,
                 Class<? extends SocketChannel> socketChannel, Class<? extends DatagramChannel> datagramChannel) {

    /** The names {@link #named} accepts. */
    static final List<String> NAMES = List.of("auto", "epoll", "io_uring", "nio");

    /**
     * Native epoll where it loads, NIO otherwise. The epoll event loops carry {@link EpollKeepRegistered}, the work-around
     * for Netty 4.2.18 dropping a half-closed channel from the epoll set. io_uring only when asked for by name: it
     * relayed no faster here (see the README's relay benchmark).
     */
    static Transport best() {
        return Epoll.isAvailable() ? nativeEpoll() : nio();
    }

    /**
     * The transport named by {@code choice} ({@code auto}, {@code epoll}, {@code io_uring}, {@code nio}); one that does
     * not load falls back to {@link #best()}.
     */
    static Transport named(String choice) {
        return switch (choice) {
            case "auto", "epoll" -> best();
            case "io_uring" -> IoUring.isAvailable() ? ioUring() : best();
            case "nio" -> nio();
            default -> throw new IllegalArgumentException("unknown transport '" + choice + "' (one of " + NAMES + ")");
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
