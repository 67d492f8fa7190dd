package io.natgw.igd;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * The transport of UPnP's HTTP server and of its event notifications: Netty's native epoll where it loads (as the
 * NAT-PMP/PCP server and the relays use), else the JDK's NIO. One event loop group and its channels must agree.
 * Against NIO, epoll took a tenth off the daemon's CPU per UPnP add (see the README). nat-dataplane's {@code Transport}
 * has the same shape for the relays; igd-server does not depend on that module, so the gateway passes its epoll
 * handler in ({@link IgdServer#epollHandler}).
 */
record HttpTransport(String name, IoHandlerFactory ioHandler, Class<? extends ServerChannel> serverChannel,
                     Class<? extends SocketChannel> socketChannel) {

    /** @param epollHandler the epoll event loops' handler, or null for Netty's own */
    static HttpTransport best(IoHandlerFactory epollHandler) {
        if (Epoll.isAvailable()) {
            return new HttpTransport("epoll", epollHandler != null ? epollHandler : EpollIoHandler.newFactory(),
                    EpollServerSocketChannel.class, EpollSocketChannel.class);
        }
        return new HttpTransport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
    }
}
