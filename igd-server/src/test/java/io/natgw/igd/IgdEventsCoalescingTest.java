package io.natgw.igd;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A burst of table changes queues one GENA notification, not one per change; a change after it ran queues the next. */
class IgdEventsCoalescingTest {

    @Test
    void aBurstOfChangesQueuesOneNotification() throws Exception {
        List<Runnable> queued = new ArrayList<>();
        IgdEvents events = new IgdEvents(List.of(), queued::add, () -> true);
        InetAddress a = InetAddress.getByName("127.0.1.1");
        InetAddress b = InetAddress.getByName("127.0.1.2");
        for (int i = 0; i < 100; i++) {
            events.externalAddressChanged(i % 2 == 0 ? a : b, i % 2 == 0 ? b : a);
        }
        assertEquals(1, queued.size());
        queued.remove(0).run();
        events.externalAddressChanged(a, b);
        assertEquals(1, queued.size(), "a change after the notification ran queues the next one");
        events.close();
        queued.remove(0).run();
        events.externalAddressChanged(b, a);
        assertEquals(0, queued.size(), "nothing is queued once closed");
    }

    @Test
    void withoutASubscriptionNothingIsQueuedAndTheFirstSubscriptionBringsNotificationsBack() throws Exception {
        List<Runnable> queued = new ArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean subscribed = new java.util.concurrent.atomic.AtomicBoolean();
        IgdEvents events = new IgdEvents(List.of(), queued::add, subscribed::get);
        InetAddress a = InetAddress.getByName("127.0.1.1");
        InetAddress b = InetAddress.getByName("127.0.1.2");
        events.externalAddressChanged(a, b);
        assertEquals(0, queued.size(), "no subscriber: no notification (jupnp would read every variable for nobody)");
        subscribed.set(true);
        events.externalAddressChanged(b, a);
        assertEquals(1, queued.size(), "a subscriber hears the next change");
    }
}
