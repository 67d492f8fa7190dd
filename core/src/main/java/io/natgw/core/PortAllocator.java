package io.natgw.core;

import io.natgw.conf.Protocol;

import java.util.BitSet;
import java.util.function.IntPredicate;

/**
 * Chooses external ports: the requested port, then the internal port (port preservation), then a search
 * upward from there over 1024-65535, wrapping once. A candidate is offered only if the policy permits it and
 * it is free; the table may still reject a candidate the dataplane cannot bind, and asks for the next one.
 * The search skips ports that hold any row in one step each ({@link BitSet#nextClearBit}), so a crowded
 * table costs a request no more than the ports it actually tests.
 */
final class PortAllocator {

    static final int FIRST_SEARCHED = 1024;
    static final int LAST_PORT = 65535;

    private final Protocol protocol;
    private final int requested;
    private final int internal;
    private final IntPredicate usable;
    private final BitSet occupied;
    private int phase;
    private int cursor;
    private int start;
    private boolean wrapped;

    /**
     * @param occupied ports that hold a row of this protocol: the search never offers them
     * @param usable   whether a port is permitted, not a service port, and free for this request
     */
    PortAllocator(Protocol protocol, int requested, int internal, BitSet occupied, IntPredicate usable) {
        this.protocol = protocol;
        this.requested = requested;
        this.internal = internal;
        this.occupied = occupied;
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
        if (phase == 2) {
            phase = 3;
            int from = Math.max(requested, internal);
            start = from < FIRST_SEARCHED ? FIRST_SEARCHED : from;
            cursor = start;
        }
        while (true) {
            int end = wrapped ? start - 1 : LAST_PORT;
            int p = occupied.nextClearBit(cursor);
            if (p > end) {
                if (wrapped) {
                    break;
                }
                wrapped = true;
                cursor = FIRST_SEARCHED;
                continue;
            }
            cursor = p + 1;
            if (p != requested && p != internal && usable.test(p)) {
                return p;
            }
        }
        return 0;
    }
}
