package io.natgw.core;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * A dataplane with the real one's contract and no sockets: {@link #prepare} routes the external port before the
 * change is durable (displacing the route it replaces), {@link #abort} undoes that, {@link #committed} applies what
 * was made durable (removals included). What it forwards is {@link #routes()}, compared with the table's rows.
 * {@link #fault} makes {@code prepare} fail for chosen changes: a {@code RuntimeException} is thrown after the route
 * was half set up (as a bind out of descriptors does), a {@code ForwardingException} before.
 */
public final class RecordingForwarder implements Forwarder, TableListener {

    private final Map<MappingKey, Mapping> routes = new HashMap<>();
    private final Map<MappingKey, Mapping> displaced = new HashMap<>();
    /** The failure prepare throws for a change, or null to succeed. */
    public volatile Function<Change, Exception> fault = c -> null;
    /** What {@link #forwardsPinholes()} answers (the kernel forwarder's yes, the relays' no). */
    public volatile boolean pinholes;

    @Override
    public boolean forwardsPinholes() {
        return pinholes;
    }

    @Override
    public synchronized void prepare(Change c) throws ForwardingException {
        Exception e = fault.apply(c);
        if (e instanceof ForwardingException f) {
            throw f;
        }
        Mapping after = c.after();
        if (after == null || !after.enabled() || c.type() == Change.Type.UPDATED && !c.affectsForwarding()) {
            return;
        }
        Mapping previous = routes.put(after.key(), after);
        if (previous != null && !previous.equals(after)) {
            displaced.putIfAbsent(after.key(), previous);
        }
        if (e instanceof RuntimeException r) {
            throw r; // half-way: the route is there, the bind failed
        }
    }

    @Override
    public synchronized void abort(Change c) {
        Mapping after = c.after();
        if (after == null) {
            return;
        }
        if (after.equals(routes.get(after.key()))) {
            routes.remove(after.key());
        }
        Mapping back = displaced.remove(after.key());
        if (back != null) {
            routes.put(back.key(), back);
        }
    }

    @Override
    public synchronized void committed(List<Change> changes) {
        for (Change c : changes) {
            switch (c.type()) {
                case ADDED, UPDATED -> {
                    if (c.after().enabled()) {
                        routes.put(c.after().key(), c.after());
                    } else {
                        routes.remove(c.after().key());
                    }
                }
                case REMOVED -> {
                    if (c.before().equals(routes.get(c.before().key()))) {
                        routes.remove(c.before().key());
                    }
                }
            }
        }
        displaced.clear();
    }

    /** What is forwarded, by key, in listing order. */
    public synchronized Map<MappingKey, Mapping> routes() {
        return new TreeMap<>(routes);
    }

    /** What a table's rows say should be forwarded: its enabled rows, by key. */
    public static Map<MappingKey, Mapping> expected(TableView view) {
        Map<MappingKey, Mapping> m = new TreeMap<>();
        for (Mapping row : view.mappings()) {
            if (row.enabled()) {
                m.put(row.key(), row);
            }
        }
        return m;
    }
}
