package io.natgw.pcp;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Gratuitous announcements on start and on an external address change, from every LAN socket, ten times, 250 ms
 * apart at first and doubling: from an IPv4 socket a NAT-PMP external address response (RFC 6886 §3.2.1) and a PCP
 * unsolicited ANNOUNCE (RFC 6887 §14.1.3) to 224.0.0.1:5350; from an IPv6 socket the PCP ANNOUNCE only, to
 * ff02::1 port 5350 on that socket's link (RFC 6887 §14.1.3; NAT-PMP is IPv4-only). Sent on the event loop, at
 * times a {@link Scheduler} keeps (the event loop's timer, or a test's hand-driven one); a new round cancels the old.
 */
final class Announcer {

    private static final Logger LOG = LoggerFactory.getLogger(Announcer.class);

    static final int TIMES = 10;
    static final Duration FIRST_INTERVAL = Duration.ofMillis(250);

    private final List<Destination> destinations;
    private final Supplier<Messages> messages;
    private final EventLoop loop;
    private final Scheduler scheduler;
    private Runnable cancelNext; // event loop only
    private int round; // event loop only: a timer of an earlier round that fires anyway sends nothing
    private int sent; // event loop only
    private boolean stopped; // event loop only

    /**
     * Where one LAN socket announces.
     *
     * @param natPmp whether the NAT-PMP address response goes there too (IPv4 sockets only)
     */
    record Destination(Channel channel, InetSocketAddress target, boolean natPmp) {
    }

    /** One announcement's datagrams, built at each send so the epoch and address are current. */
    record Messages(byte[] natPmp, byte[] pcp) {
        /** @param natPmp null when there is no usable IPv4 address to announce */
        Messages {
            java.util.Objects.requireNonNull(pcp, "pcp");
        }
    }

    /** Runs the next announcement of a round after its interval. */
    interface Scheduler {
        /** Runs {@code task} (on any thread) after {@code delay}; returns what cancels it. */
        Runnable schedule(Runnable task, Duration delay);

        /** The event loop's own timer. */
        static Scheduler of(EventLoop loop) {
            return (task, delay) -> {
                ScheduledFuture<?> f = loop.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
                return () -> f.cancel(false);
            };
        }
    }

    /**
     * @param messages  built at each send, so the epoch and address are current
     * @param scheduler keeps the intervals; null for the event loop's timer
     */
    Announcer(List<Destination> destinations, Supplier<Messages> messages, Scheduler scheduler) {
        this.destinations = List.copyOf(destinations);
        this.messages = messages;
        this.loop = destinations.get(0).channel().eventLoop();
        this.scheduler = scheduler != null ? scheduler : Scheduler.of(loop);
    }

    /** Delay between announcement {@code n} (0-based, n >= 1) and the one before it: 250 ms, 500 ms, 1 s, ... */
    static Duration intervalBefore(int n) {
        return FIRST_INTERVAL.multipliedBy(1L << (n - 1));
    }

    /** Starts a new round of ten, now. Any thread. */
    void announce() {
        loop.execute(() -> {
            if (stopped) {
                return;
            }
            cancelNext();
            round++;
            sent = 0;
            sendAndReschedule(round);
        });
    }

    void stop() {
        loop.execute(() -> {
            stopped = true;
            cancelNext();
        });
    }

    private static void send(Destination d, byte[] payload) {
        Channel ch = d.channel();
        ch.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(payload), d.target())).addListener(f -> {
            if (!f.isSuccess()) {
                // On loopback or without a multicast route this fails; it must never stop the server.
                LOG.debug("announcement from {} to {} not sent: {}", ch.localAddress(), d.target(), f.cause().toString());
            }
        });
    }

    private void cancelNext() {
        if (cancelNext != null) {
            cancelNext.run();
            cancelNext = null;
        }
    }

    private void sendAndReschedule(int ofRound) {
        if (stopped || ofRound != round) {
            return;
        }
        Messages m = messages.get();
        for (Destination d : destinations) {
            if (d.natPmp() && m.natPmp() != null) {
                send(d, m.natPmp());
            }
            send(d, m.pcp());
        }
        sent++;
        if (sent < TIMES) {
            cancelNext = scheduler.schedule(() -> loop.execute(() -> sendAndReschedule(ofRound)), intervalBefore(sent));
        }
    }
}
