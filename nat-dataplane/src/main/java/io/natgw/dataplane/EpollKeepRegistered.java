package io.natgw.dataplane;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.ThreadAwareExecutor;

/**
 * Netty 4.2.18's epoll {@link IoHandler}, with one defect worked around: a channel stays in the epoll set when its
 * interest set empties.
 *
 * <p>When a channel's interest set becomes empty (input shut down after a FIN, nothing left to write), Netty's
 * registration removes the descriptor ({@code EPOLL_CTL_DEL}) yet keeps it marked as added, so the next interest
 * ({@code EPOLLOUT} once the socket's send buffer fills) is an {@code EPOLL_CTL_MOD} that fails with ENOENT, and the
 * channel's output is shut down with data still queued. A half-closed relay lost the end of its reply that way. Here an
 * empty interest set is submitted as {@code EPOLLET} alone instead: the descriptor stays registered, asks for no event,
 * and the hang-up and error events that epoll always reports arrive once (edge-triggered), not in a loop, which is
 * what removing it was meant to avoid. Everything else is Netty's.
 *
 * <p>Public for the daemon's wiring: UPnP's HTTP server, whose connections may be half-closed too, runs on it.
 */
public final class EpollKeepRegistered implements IoHandlerFactory {

    private final IoHandlerFactory epoll = EpollIoHandler.newFactory();

    public EpollKeepRegistered() {
    }

    @Override
    public IoHandler newHandler(ThreadAwareExecutor executor) {
        return new Handler(epoll.newHandler(executor));
    }

    @Override
    public boolean isChangingThreadSupported() {
        return epoll.isChangingThreadSupported();
    }

    /** An empty interest set as submitted in its place: registered, no events asked for, edge-triggered. */
    static IoOps keepRegistered(IoOps ops) {
        return ops instanceof EpollIoOps e && e.value() == EpollIoOps.NONE.value() ? EpollIoOps.EPOLLET : ops;
    }

    private record Handler(IoHandler epoll) implements IoHandler {

        @Override
        public void initialize() {
            epoll.initialize();
        }

        @Override
        public int run(IoHandlerContext context) {
            return epoll.run(context);
        }

        @Override
        public void prepareToDestroy() {
            epoll.prepareToDestroy();
        }

        @Override
        public void destroy() {
            epoll.destroy();
        }

        @Override
        public IoRegistration register(IoHandle handle) throws Exception {
            return new Registration(epoll.register(handle));
        }

        @Override
        public void wakeup() {
            epoll.wakeup();
        }

        @Override
        public boolean isCompatible(Class<? extends IoHandle> handleType) {
            return epoll.isCompatible(handleType);
        }
    }

    private record Registration(IoRegistration epoll) implements IoRegistration {

        @Override
        public <T> T attachment() {
            return epoll.attachment();
        }

        @Override
        public long submit(IoOps ops) {
            return epoll.submit(keepRegistered(ops));
        }

        @Override
        public boolean isValid() {
            return epoll.isValid();
        }

        @Override
        public boolean cancel() {
            return epoll.cancel();
        }
    }
}
