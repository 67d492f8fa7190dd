package io.natgw.dataplane;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Relay sockets bound on the table's writer, handed to their event loops once per batch of changes: one task, and so
 * at most one wake-up, per event loop and batch, instead of one per socket (a wake-up is an eventfd write on the writer
 * and a context switch on the loop: with 16 NAT-PMP clients mapping at once, the eventfd writes alone were 7 % of the
 * writer's samples). Until its loop registers it a bound socket queues its peers in the kernel (TCP's backlog, UDP's
 * receive buffer), as it did before while its registration task waited in the loop's queue.
 */
final class Registrations {

    private record Waiting(Channel channel, Runnable register) {
    }

    private final Map<EventLoop, List<Waiting>> byLoop = new LinkedHashMap<>();

    /** Keeps {@code register} (run on {@code loop}) until the next {@link #flush}. */
    synchronized void add(EventLoop loop, Channel channel, Runnable register) {
        byLoop.computeIfAbsent(loop, l -> new ArrayList<>(4)).add(new Waiting(channel, register));
    }

    /**
     * Takes back the registration of {@code channel} if it has not been handed to its loop yet: true when it was still
     * waiting here (no loop has seen the channel, so the caller may close it on its own thread).
     */
    synchronized boolean cancel(Channel channel) {
        for (List<Waiting> waiting : byLoop.values()) {
            if (waiting.removeIf(w -> w.channel == channel)) {
                return true;
            }
        }
        return false;
    }

    /** Hands every waiting registration to its loop: one task per loop, run in the order they were added. */
    void flush() {
        List<Map.Entry<EventLoop, List<Waiting>>> now;
        synchronized (this) {
            if (byLoop.isEmpty()) {
                return;
            }
            now = new ArrayList<>(byLoop.entrySet());
            byLoop.clear();
        }
        for (Map.Entry<EventLoop, List<Waiting>> e : now) {
            List<Waiting> waiting = e.getValue();
            if (!waiting.isEmpty()) {
                e.getKey().execute(() -> {
                    for (Waiting w : waiting) {
                        w.register.run();
                    }
                });
            }
        }
    }
}
