package io.natgw.core;

/**
 * A committed change of one row. Listeners see these in commit order, after they are durable.
 *
 * @param before the row before ({@code null} when added)
 * @param after  the row after ({@code null} when removed)
 */
public record Change(Type type, Mapping before, Mapping after, Cause cause) {

    public enum Type { ADDED, UPDATED, REMOVED }

    public enum Cause {
        /** A client's or admin's request. */
        REQUEST,
        /** The lease ran out. */
        EXPIRED,
        /** Restored from the journal at start-up. */
        RESTORED
    }

    public static Change added(Mapping m, Cause cause) {
        return new Change(Type.ADDED, null, m, cause);
    }

    public static Change updated(Mapping before, Mapping after, Cause cause) {
        return new Change(Type.UPDATED, before, after, cause);
    }

    public static Change removed(Mapping m, Cause cause) {
        return new Change(Type.REMOVED, m, null, cause);
    }

    /** The row as it is after the change, or as it was before a removal. */
    public Mapping mapping() {
        return after != null ? after : before;
    }

    /** Whether forwarding must change: anything but a lease extension. */
    public boolean affectsForwarding() {
        if (type != Type.UPDATED) {
            return true;
        }
        return !before.internal().equals(after.internal()) || before.enabled() != after.enabled()
                || !before.remote().equals(after.remote());
    }
}
