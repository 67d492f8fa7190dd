package io.natgw.igd;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Why a UPnP socket could not open (address, port, the system's reason), collected where jupnp would only
 * log it, so that {@link IgdServer#start()} fails with a message that names the cause.
 */
final class StartFailures {

    private final List<String> reasons = new CopyOnWriteArrayList<>();

    void add(String reason) {
        reasons.add(reason);
    }

    /** The first reason recorded, or {@code fallback}. */
    String first(String fallback) {
        return reasons.isEmpty() ? fallback : reasons.get(0);
    }
}
