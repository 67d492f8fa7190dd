package io.natgw.igd;

import ch.qos.logback.classic.Level;
import com.sun.net.httpserver.HttpServer;
import io.natgw.core.MappingRequest;
import io.natgw.core.Origin;
import io.natgw.core.Owner;
import io.natgw.testsupport.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GENA budgets (issues 10, 11): subscriptions are capped per client and in total (503 beyond), a client's
 * unreadable TIMEOUT header is no ERROR, and events dropped from a full queue are counted and logged.
 */
class IgdGenaLimitsTest {

    private TestGateway gw;
    private URI event;
    private final List<HttpServer> subscribers = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        gw = TestGateway.start();
        event = Descriptions.eventUrl(gw.description(2), "urn:schemas-upnp-org:service:WANIPConnection:2");
    }

    @AfterEach
    void stop() throws Exception {
        for (HttpServer s : subscribers) {
            s.stop(0);
        }
        gw.close();
    }

    /** An event sink on {@code address}, answering every NOTIFY with 200. */
    private int sink(InetAddress address) throws Exception {
        HttpServer s = HttpServer.create(new InetSocketAddress(address, 0), 8);
        s.createContext("/cb", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        s.start();
        subscribers.add(s);
        return s.getAddress().getPort();
    }

    private RawHttp.Response subscribe(InetAddress from, int sinkPort, String timeout) throws Exception {
        return RawHttp.exchange(event, from, RawHttp.request("SUBSCRIBE", event, "127.0.0.1:" + event.getPort(),
                Map.of("CALLBACK", "<http://" + from.getHostAddress() + ":" + sinkPort + "/cb>", "NT", "upnp:event",
                        "TIMEOUT", timeout), null));
    }

    @Test
    void subscriptionsAreCappedPerClient() throws Exception {
        InetAddress a = TestGateway.address("127.0.0.1");
        int port = sink(a);
        List<Integer> statuses = new ArrayList<>();
        String sid = null;
        for (int i = 0; i < GenaBudget.PER_CLIENT + 4; i++) {
            RawHttp.Response r = subscribe(a, port, "Second-300");
            statuses.add(r.status());
            sid = r.status() == 200 ? r.headers().get("sid") : sid;
        }
        assertEquals(GenaBudget.PER_CLIENT, statuses.stream().filter(s -> s == 200).count(), statuses.toString());
        assertEquals(4, statuses.stream().filter(s -> s == 503).count(), statuses.toString());
        InetAddress b = TestGateway.address("127.0.0.2");
        assertEquals(200, subscribe(b, sink(b), "Second-300").status(), "another client still subscribes");
        RawHttp.Response unsub = RawHttp.exchange(event, a, RawHttp.request("UNSUBSCRIBE", event,
                "127.0.0.1:" + event.getPort(), Map.of("SID", sid), null));
        assertEquals(200, unsub.status());
        assertEquals(200, subscribe(a, port, "Second-300").status(), "a freed slot is usable again");
    }

    @Test
    void subscriptionsAreCappedInTotal() throws Exception {
        int clients = GenaBudget.TOTAL / GenaBudget.PER_CLIENT;
        for (int c = 0; c < clients; c++) {
            InetAddress from = TestGateway.address("127.0.1." + (100 + c));
            int port = sink(from);
            for (int i = 0; i < GenaBudget.PER_CLIENT; i++) {
                assertEquals(200, subscribe(from, port, "Second-300").status(), "client " + from + " #" + i);
            }
        }
        InetAddress late = TestGateway.address("127.0.2.1");
        assertEquals(503, subscribe(late, sink(late), "Second-300").status(), "over " + GenaBudget.TOTAL + " in total");
    }

    @Test
    void anUnreadableTimeoutIsNoErrorAndTheDefaultApplies() throws Exception {
        try (LogCapture seen = LogCapture.root()) {
            InetAddress a = TestGateway.address("127.0.0.1");
            RawHttp.Response r = subscribe(a, sink(a), "Second-99999999999999999");
            assertEquals(200, r.status(), r.body());
            assertEquals(List.of(), seen.lines(Level.ERROR));
        }
    }

    @Test
    void eventsDroppedFromAFullQueueAreCountedAndLogged() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (LogCapture seen = new LogCapture(DroppedEvents.class)) {
            gw.igd.onEventThread(() -> {
                try {
                    release.await(60, TimeUnit.SECONDS); // holds the event thread: what follows queues up
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            // Table changes coalesce into one queued notification (IgdEventsCoalescingTest), so the queue is filled
            // with the executor's other work: GENA sends to subscribers.
            int tasks = IgdServer.EVENT_QUEUE + 10;
            for (int i = 0; i < tasks; i++) {
                gw.igd.onEventThread(() -> {
                });
            }
            assertTrue(gw.igd.droppedEvents() >= 10, "dropped: " + gw.igd.droppedEvents());
            assertTrue(seen.lines(Level.WARN).stream().anyMatch(l -> l.contains("dropped the oldest event")),
                    seen.events().toString());
        } finally {
            release.countDown();
        }
    }
}
