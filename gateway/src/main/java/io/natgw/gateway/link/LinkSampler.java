package io.natgw.gateway.link;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Reads the WAN link every {@link #PERIOD} so that a link going down and up is noticed even when nobody asks (the
 * reader's uptime counts from the reading that saw it come up; GENA subscribers hear of the change). The reading is a
 * handful of sysfs files, so the cost is negligible; {@code carrier_changes} also catches a flap shorter than the period.
 */
public final class LinkSampler implements AutoCloseable {

    /** How often the link is read: the uptime figure is exact to within this. */
    public static final Duration PERIOD = Duration.ofSeconds(2);

    private final ScheduledExecutorService timer;

    private LinkSampler(ScheduledExecutorService timer) {
        this.timer = timer;
    }

    public static LinkSampler start(SysfsWanLink link) {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "natgw-wan-link");
            t.setDaemon(true);
            return t;
        });
        link.sample(); // the first reading: a link up now counts its uptime from here
        timer.scheduleWithFixedDelay(link::sample, PERIOD.toMillis(), PERIOD.toMillis(), TimeUnit.MILLISECONDS);
        return new LinkSampler(timer);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
