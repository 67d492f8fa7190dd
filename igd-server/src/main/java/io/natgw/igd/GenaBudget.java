package io.natgw.igd;

import org.jupnp.model.gena.LocalGENASubscription;

import java.net.InetAddress;
import java.net.URL;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * GENA subscriptions held, per subscriber address and in total. A new SUBSCRIBE is refused (503) when its
 * client holds {@value #PER_CLIENT} or all clients hold {@value #TOTAL}, so a flood of subscriptions cannot
 * slow the events of real subscribers. Counted from jupnp's registry (added, removed on UNSUBSCRIBE or expiry);
 * checked when the request arrives, so requests already being processed may exceed a cap by the worker count.
 */
final class GenaBudget {

    static final int PER_CLIENT = 8;
    static final int TOTAL = 128;

    private final Map<InetAddress, Integer> perClient = new HashMap<>();
    private final Map<LocalGENASubscription, InetAddress> held = new IdentityHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger registered = new java.util.concurrent.atomic.AtomicInteger();

    /** Whether a new subscription from this client fits; null when it does, else why not. */
    synchronized String refusal(InetAddress client) {
        if (held.size() >= TOTAL) {
            return held.size() + " GENA subscriptions are held (at most " + TOTAL + ")";
        }
        int mine = perClient.getOrDefault(client, 0);
        return mine >= PER_CLIENT ? client.getHostAddress() + " holds " + mine + " GENA subscriptions (at most " + PER_CLIENT + ")" : null;
    }

    synchronized void added(LocalGENASubscription s) {
        InetAddress subscriber = subscriber(s);
        if (subscriber != null && held.putIfAbsent(s, subscriber) == null) {
            perClient.merge(subscriber, 1, Integer::sum);
        }
    }

    synchronized void removed(LocalGENASubscription s) {
        InetAddress subscriber = held.remove(s);
        if (subscriber != null) {
            perClient.computeIfPresent(subscriber, (k, n) -> n <= 1 ? null : n - 1);
        }
    }

    /** Whether jupnp's registry holds any subscription (counted whatever its callback), read per table change. */
    boolean anySubscription() {
        return registered.get() > 0;
    }

    /** The registry took a subscription (before it is registered on its service, so no event to it is skipped). */
    void registered() {
        registered.incrementAndGet();
    }

    /** The registry dropped a subscription it held. */
    void unregistered() {
        registered.decrementAndGet();
    }

    synchronized int total() {
        return held.size();
    }

    /** The callback's host: the subscriber itself ({@link RequestGuard#callbackAllowed} enforces that). */
    private static InetAddress subscriber(LocalGENASubscription s) {
        List<URL> callbacks = s.getCallbackURLs();
        if (callbacks == null || callbacks.isEmpty()) {
            return null;
        }
        String host = callbacks.get(0).getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return RequestGuard.literal(host).orElse(null);
    }
}
