package io.natgw.pcp;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** An {@link Announcer.Scheduler} whose timers fire only when the test says so: it checks the schedule, not the time. */
final class HandDrivenScheduler implements Announcer.Scheduler {

    /** One timer: what to run, after how long, and whether the announcer cancelled it. */
    record Timer(Runnable task, Duration delay, AtomicBoolean cancelled) {
        void fire() {
            task.run();
        }
    }

    private final BlockingQueue<Timer> timers = new LinkedBlockingQueue<>();

    @Override
    public Runnable schedule(Runnable task, Duration delay) {
        Timer t = new Timer(task, delay, new AtomicBoolean());
        timers.add(t);
        return () -> t.cancelled().set(true);
    }

    /** The next timer the announcer set (the wait is a ceiling that only catches a hang). */
    Timer next() throws InterruptedException {
        Timer t = timers.poll(30, TimeUnit.SECONDS);
        if (t == null) {
            throw new AssertionError("the announcer set no timer within 30 s");
        }
        return t;
    }

    /** Timers set and not yet taken by {@link #next()}. */
    int waiting() {
        return timers.size();
    }
}
