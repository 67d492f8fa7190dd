package io.natgw.gateway.wan;

import io.natgw.conf.NatgwConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * network.wan.stun: asks a STUN server, from the WAN address, which public address it sees (the address in front of
 * a double NAT), on a thread of its own so that start-up never waits for it. It asks at start, at once again when
 * the WAN address changes ({@link #askFrom}), every network.wan.stunRefresh after an answer, and after a round with
 * no answer again after a {@link StunBackoff} wait (network.wan.stunRetry doubling up to
 * {@link NatgwConfig.Network#STUN_RETRY_CAP}, jittered). Rounds never overlap (one thread) and a round sends at most
 * {@link #ATTEMPTS} requests {@link #WAIT} apart, so natgw never sends the server more than one request a second,
 * whatever the WAN does; a server that never answers gets, once backed off, 4 requests per 5 minutes. What it
 * learned, or why not, is the admin status; one INFO/WARN line per change of it.
 *
 * <p>The learned address is shown, not told to clients (network.wan.reportedAddress is), so a changed answer is not an
 * external address change: the table's address, epoch and announcements follow the WAN interface only.
 */
public final class StunProbe implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StunProbe.class);
    /** RFC 5389 §7.2.1 retransmits 7 times from 500 ms; 4 tries of 1 s each are enough on a LAN-to-WAN path. */
    static final int ATTEMPTS = 4;
    static final Duration WAIT = Duration.ofSeconds(1);

    /** What the admin status shows: the learned address (null until an answer), and why it is missing or stale. */
    public record Result(String address, String problem) {
    }

    /** Runs {@code task} after {@code delay}, on one thread for every task; the returned action cancels it. */
    @FunctionalInterface
    interface Scheduler {
        Runnable schedule(Runnable task, Duration delay);
    }

    /** One Binding transaction from {@code bind}: the reflexive address, or why there is none. */
    @FunctionalInterface
    interface Transaction {
        InetSocketAddress ask(InetAddress bind) throws IOException;
    }

    private final String at;
    private final Duration refresh;
    private final StunBackoff backoff;
    private final Transaction transaction;
    private final Scheduler scheduler;
    private final Runnable shutdown;
    private final AtomicReference<Result> result = new AtomicReference<>(new Result(null, "not asked yet"));

    // Guarded by this.
    private long generation;
    private Runnable pending;
    private String learned;
    private boolean failing;
    private boolean closed;

    StunProbe(InetSocketAddress server, Duration refresh, StunBackoff backoff, Transaction transaction, Scheduler scheduler,
              Runnable shutdown) {
        this.at = server.getAddress().getHostAddress() + ":" + server.getPort();
        this.refresh = refresh;
        this.backoff = backoff;
        this.transaction = transaction;
        this.scheduler = scheduler;
        this.shutdown = shutdown;
    }

    /** A probe of {@code network.stun()} on a daemon thread of its own ("natgw-stun"); it asks once {@link #askFrom} is called. */
    public static StunProbe of(NatgwConfig.Network network) {
        InetSocketAddress server = network.stun();
        ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "natgw-stun");
            t.setDaemon(true);
            return t;
        });
        SecureRandom ids = new SecureRandom();
        Scheduler scheduler = (task, delay) -> {
            Future<?> f = thread.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
            return () -> f.cancel(false);
        };
        StunBackoff backoff = new StunBackoff(network.stunRetry(), NatgwConfig.Network.STUN_RETRY_CAP,
                () -> ThreadLocalRandom.current().nextDouble());
        return new StunProbe(server, network.stunRefresh(), backoff, bind -> ask(bind, server, ids, ATTEMPTS, WAIT),
                scheduler, thread::shutdownNow);
    }

    public Result result() {
        return result.get();
    }

    /**
     * Asks now from {@code bind} (at start, and when the WAN address changes): the round in flight or waiting for its
     * turn is dropped, the backoff starts again, and what an older address's round answers is not news.
     */
    public synchronized void askFrom(InetAddress bind) {
        if (closed) {
            return;
        }
        long round = ++generation;
        if (round > 1) {
            result.set(new Result(null, "asking again from " + bind.getHostAddress()));
        }
        learned = null;
        failing = false;
        backoff.reset();
        cancelPending();
        pending = scheduler.schedule(() -> round(bind, round), Duration.ZERO);
    }

    private void round(InetAddress bind, long round) {
        synchronized (this) {
            if (closed || round != generation) {
                return;
            }
        }
        InetSocketAddress mapped = null;
        String failure = null;
        try {
            mapped = transaction.ask(bind);
        } catch (IOException | RuntimeException e) {
            failure = e.getMessage() != null ? e.getMessage() : e.toString();
        }
        synchronized (this) {
            if (closed || round != generation) {
                return; // an answer for an older WAN address is not news
            }
            Duration next = refresh;
            if (mapped != null) {
                answered(bind, mapped.getAddress().getHostAddress());
            } else {
                next = backoff.failed();
                unanswered(failure, next);
            }
            pending = scheduler.schedule(() -> round(bind, round), next);
        }
    }

    /** Holds this. */
    private void answered(InetAddress bind, String address) {
        backoff.reset();
        if (learned == null) {
            LOG.info("STUN server {} sees the WAN address {} as {}", at, bind.getHostAddress(), address);
        } else if (!learned.equals(address)) {
            LOG.info("STUN server {} now sees the WAN address {} as {} (was {})", at, bind.getHostAddress(), address, learned);
        } else if (failing) {
            LOG.info("STUN server {} answers again: it still sees the WAN address {} as {}", at, bind.getHostAddress(), address);
        } else {
            LOG.debug("STUN server {} still sees the WAN address {} as {}", at, bind.getHostAddress(), address);
        }
        learned = address;
        failing = false;
        result.set(new Result(address, null));
    }

    /** Holds this. The last learned address stays shown (with the problem) until an answer says otherwise. */
    private void unanswered(String failure, Duration wait) {
        String problem = "STUN server " + at + ": " + failure + "; asking again in " + seconds(wait);
        if (!failing) {
            LOG.warn("STUN server {} gave no public address: {}; asking again in {}, then less and less often (up to every {})",
                    at, failure, seconds(wait), seconds(NatgwConfig.Network.STUN_RETRY_CAP));
        } else {
            LOG.debug("{}", problem);
        }
        failing = true;
        result.set(new Result(learned, problem));
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    private void cancelPending() {
        if (pending != null) {
            pending.run();
            pending = null;
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        cancelPending();
        shutdown.run();
    }

    /** One Binding transaction: sent up to {@code attempts} times, {@code wait} apart; answers to other transactions are skipped. */
    static InetSocketAddress ask(InetAddress bind, InetSocketAddress server, SecureRandom random, int attempts, Duration wait)
            throws IOException {
        byte[] id = new byte[12];
        random.nextBytes(id);
        byte[] request = StunCodec.bindingRequest(id);
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(bind, 0))) {
            byte[] buf = new byte[1500];
            for (int attempt = 0; attempt < attempts; attempt++) {
                s.send(new DatagramPacket(request, request.length, server));
                // a deadline per attempt, not a timeout per packet: packets that are not the answer do not prolong it
                long deadline = System.nanoTime() + wait.toNanos();
                try {
                    while (true) {
                        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                        if (left <= 0) {
                            break;
                        }
                        s.setSoTimeout((int) left);
                        DatagramPacket p = new DatagramPacket(buf, buf.length);
                        s.receive(p);
                        if (!server.equals(p.getSocketAddress())) {
                            LOG.debug("STUN answer from {} ignored: not the server {}", p.getSocketAddress(), server);
                            continue;
                        }
                        try {
                            return StunCodec.mappedAddress(Arrays.copyOf(buf, p.getLength()), id);
                        } catch (IllegalArgumentException e) {
                            LOG.debug("STUN answer from {} ignored: {}", server, e.getMessage());
                        }
                    }
                } catch (SocketTimeoutException e) {
                    // retransmit
                }
            }
        }
        throw new IOException("no answer after " + attempts + " request" + (attempts == 1 ? "" : "s") + " of " + seconds(wait));
    }
}
