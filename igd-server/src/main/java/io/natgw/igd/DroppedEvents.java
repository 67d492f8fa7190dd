package io.natgw.igd;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * When the GENA event queue is full, the oldest queued event is dropped for the new one (subscribers then read
 * the latest values), counted, and logged at WARN: the first drop, then every {@value #LOG_EVERY}th.
 */
final class DroppedEvents implements java.util.concurrent.RejectedExecutionHandler {

    private static final Logger LOG = LoggerFactory.getLogger(DroppedEvents.class);
    static final long LOG_EVERY = 1000;

    private final AtomicLong dropped = new AtomicLong();

    @Override
    public void rejectedExecution(Runnable r, ThreadPoolExecutor executor) {
        if (executor.isShutdown()) {
            return;
        }
        if (executor.getQueue().poll() != null) {
            long n = dropped.incrementAndGet();
            if (n == 1 || n % LOG_EVERY == 0) {
                LOG.warn("GENA event queue full ({} queued): dropped the oldest event, {} dropped since start",
                        IgdServer.EVENT_QUEUE, n);
            }
        }
        executor.execute(r);
    }

    long count() {
        return dropped.get();
    }
}
