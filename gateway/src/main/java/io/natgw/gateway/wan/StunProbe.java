package io.natgw.gateway.wan;

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
import java.util.concurrent.atomic.AtomicReference;

/**
 * network.wan.stun: asks a STUN server, once at start and from the WAN address, which public address it sees
 * (the address in front of a double NAT), on a thread of its own so that start-up never waits for it. What
 * it learned, or why not, is one INFO/WARN line and the admin status.
 */
public final class StunProbe {

    private static final Logger LOG = LoggerFactory.getLogger(StunProbe.class);
    /** RFC 5389 §7.2.1 retransmits 7 times from 500 ms; 4 tries of 1 s each are enough on a LAN-to-WAN path. */
    static final int ATTEMPTS = 4;
    static final Duration WAIT = Duration.ofSeconds(1);

    /** What the admin status shows: the learned address, or the reason there is none yet. */
    public record Result(String address, String problem) {
    }

    private final InetSocketAddress server;
    private final AtomicReference<Result> result = new AtomicReference<>(new Result(null, "not asked yet"));
    private final java.util.concurrent.atomic.AtomicLong rounds = new java.util.concurrent.atomic.AtomicLong();

    public StunProbe(InetSocketAddress server) {
        this.server = server;
    }

    public Result result() {
        return result.get();
    }

    /** Starts the one query from {@code bind} (port 0); again when the WAN address changes (the latest one counts). */
    public void start(InetAddress bind) {
        long round = rounds.incrementAndGet();
        if (round > 1) {
            result.set(new Result(null, "asking again from " + bind.getHostAddress()));
        }
        Thread t = new Thread(() -> run(bind, round), "natgw-stun");
        t.setDaemon(true);
        t.start();
    }

    private void run(InetAddress bind, long round) {
        String at = server.getAddress().getHostAddress() + ":" + server.getPort();
        try {
            InetSocketAddress mapped = ask(bind, server, new SecureRandom());
            if (round == rounds.get()) { // an answer to an older address's query is not news
                result.set(new Result(mapped.getAddress().getHostAddress(), null));
                LOG.info("STUN server {} sees the WAN address {} as {}", at, bind.getHostAddress(), mapped.getAddress().getHostAddress());
            }
        } catch (IOException e) {
            if (round == rounds.get()) {
                result.set(new Result(null, "STUN server " + at + ": " + e.getMessage()));
                LOG.warn("STUN server {} gave no public address: {}", at, e.getMessage());
            }
        }
    }

    /** One Binding transaction: sent up to {@link #ATTEMPTS} times; answers to other transactions are skipped. */
    static InetSocketAddress ask(InetAddress bind, InetSocketAddress server, SecureRandom random) throws IOException {
        byte[] id = new byte[12];
        random.nextBytes(id);
        byte[] request = StunCodec.bindingRequest(id);
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(bind, 0))) {
            s.setSoTimeout((int) WAIT.toMillis());
            byte[] buf = new byte[1500];
            for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
                s.send(new DatagramPacket(request, request.length, server));
                try {
                    while (true) {
                        DatagramPacket p = new DatagramPacket(buf, buf.length);
                        s.receive(p);
                        if (!server.equals(p.getSocketAddress())) {
                            continue; // not the server's: ignored
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
        throw new IOException("no answer after " + ATTEMPTS + " requests of " + WAIT.toSeconds() + " s");
    }
}
