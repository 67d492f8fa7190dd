package io.natgw.core;

import io.natgw.conf.Protocol;

import java.util.function.IntPredicate;

/**
 * Chooses external ports: the requested port, then the internal port (port preservation), then a search
 * upward from there over 1024-65535, wrapping once. A candidate is offered only if the policy permits it and
 * it is free; the table may still reject a candidate the dataplane cannot bind, and asks for the next one.
 */
final class PortAllocator {

    static final int FIRST_SEARCHED = 1024;
    static final int LAST_PORT = 65535;

    private final Protocol protocol;
    private final int requested;
    private final int internal;
    private final IntPredicate usable;
    private int phase;
    private int cursor;
    private int scanned;

    /**
     * @param usable whether a port is permitted, not a service port, and free for this request
     */
    PortAllocator(Protocol protocol, int requested, int internal, IntPredicate usable) {
        this.protocol = protocol;
        this.requested = requested;
        this.internal = internal;
        this.usable = usable;
    }

    Protocol protocol() {
        return protocol;
    }

    /** The next candidate, or 0 when every port has been offered. */
    int next() {
        while (phase < 2) {
            int p = phase++ == 0 ? requested : internal;
            if (p > 0 && !(phase == 2 && p == requested) && usable.test(p)) {
                return p;
            }
        }
        int span = LAST_PORT - FIRST_SEARCHED + 1;
        if (phase == 2) {
            phase = 3;
            int start = Math.max(requested, internal);
            cursor = start < FIRST_SEARCHED ? FIRST_SEARCHED : start;
        }
        while (scanned < span) {
            int p = cursor;
            cursor = cursor == LAST_PORT ? FIRST_SEARCHED : cursor + 1;
            scanned++;
            if (p != requested && p != internal && usable.test(p)) {
                return p;
            }
        }
        return 0;
    }
}
