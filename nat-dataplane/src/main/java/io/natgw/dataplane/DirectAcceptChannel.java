package io.natgw.dataplane;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ServerChannelRecvByteBufAllocator;
import io.netty.channel.epoll.AbstractEpollServerChannel;
import io.netty.channel.epoll.EpollChannelConfig;
import io.netty.channel.unix.NativeInetAddress;

import java.net.InetSocketAddress;

/**
 * A listening TCP socket on native epoll whose accepted connections never become Netty channels: each is handed to
 * {@link Accepted} as a bare descriptor and the peer's address, on this channel's event loop, in Netty's accept loop
 * ({@link DirectTcpRelay} relays it). Accepting, pausing (autoRead) and accept errors stay Netty's, as for
 * {@code EpollServerSocketChannel}.
 *
 * <p>Netty's accept loop passes what {@link #newChildChannel} returns down the pipeline; that is this channel itself
 * here, which {@link #DROP}, the pipeline's last handler, drops.
 */
final class DirectAcceptChannel extends AbstractEpollServerChannel {

    /** Takes an accepted socket: relays or refuses it, and closes it on any failure (never throws). */
    interface Accepted {
        void accepted(DirectAcceptChannel server, int fd, InetSocketAddress peer);
    }

    /** The pipeline's last handler: drops the placeholder each accept passes down. */
    static final ChannelHandler DROP = new Drop();

    private final EpollChannelConfig config = new EpollChannelConfig(this, new ServerChannelRecvByteBufAllocator()) {
    };
    private final Accepted accepted;

    /** @param fd a socket already bound and listening */
    DirectAcceptChannel(int fd, Accepted accepted) {
        super(fd);
        this.accepted = accepted;
        active = true; // the int constructor takes the socket for not listening yet; it is
    }

    @Override
    public EpollChannelConfig config() {
        return config;
    }

    @Override
    protected Channel newChildChannel(int fd, byte[] address, int offset, int len) {
        accepted.accepted(this, fd, NativeInetAddress.address(address, offset, len));
        return this;
    }

    @ChannelHandler.Sharable
    private static final class Drop extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            // The accepted connection went to Accepted already; msg is the listening channel itself.
        }
    }
}
