package io.natgw.igd;

import io.natgw.core.WanLink;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A WAN link whose reading the test sets: the IGD's translation of link figures is tested here; the sysfs reader
 * itself is tested in the gateway module and end to end in namespaces.
 */
final class TestLink implements WanLink {

    private volatile Reading reading;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    TestLink(Reading reading) {
        this.reading = reading;
    }

    /** An Ethernet link that is up, 1 Gbit/s, with small counters. */
    static TestLink up() {
        return new TestLink(new Reading("wan0", State.UP, 1000, 2000, 10, 20, 1_000_000_000L, 42, null));
    }

    /** Changes the reading and tells the listeners, as the sysfs reader does when the state changes. */
    void set(Reading r) {
        State before = reading.state();
        reading = r;
        if (before != r.state()) {
            listeners.forEach(Runnable::run);
        }
    }

    @Override
    public Reading read() {
        return reading;
    }

    @Override
    public void onStateChange(Runnable listener) {
        listeners.add(listener);
    }
}
