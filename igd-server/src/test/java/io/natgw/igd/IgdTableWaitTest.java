package io.natgw.igd;

import io.natgw.core.Change;
import io.natgw.core.ForwardingStore;
import io.natgw.core.InMemoryLeaseStore;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * UPnP adds and deletes are table requests that no thread waits for: the HTTP event loop sends them and writes each
 * answer when the table gives it. So while the disk holds the table's commit, any number of them in flight (at most
 * one per connection) leave the worker pool (32 threads) to the other actions, and every one is answered once the
 * disk writes.
 */
class IgdTableWaitTest {

    private static final String WAN_IP = "urn:schemas-upnp-org:service:WANIPConnection:2";
    /** More than the worker pool's 32 threads: a pool-bound path would leave GetExternalIPAddress queued behind them. */
    private static final int ADDS = 48;
    private static final int PER_HOST = 12;

    /** A lease store whose commits wait until {@code disk} opens; {@code held} counts the commits begun. */
    private static ForwardingStore slowDisk(CountDownLatch disk, AtomicInteger held) {
        return new ForwardingStore(new InMemoryLeaseStore()) {
            @Override
            public void commit(List<Change> changes) throws IOException {
                held.incrementAndGet();
                try {
                    disk.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException(e);
                }
                super.commit(changes);
            }
        };
    }

    @Test
    void addsWaitingForTheDiskHoldNoWorkerAndAreAllAnsweredOnceItWrites() throws Exception {
        CountDownLatch disk = new CountDownLatch(1);
        AtomicInteger commitsHeld = new AtomicInteger();
        ForwardingStore slowDisk = slowDisk(disk, commitsHeld);
        ExecutorService clients = Executors.newFixedThreadPool(ADDS);
        try (TestGateway gw = TestGateway.start(slowDisk, igd -> igd.requestTimeout(Duration.ofSeconds(60)))) {
            URI control = gw.control(2);
            Soap soap = gw.soap(2); // reads the description now: a GET is a worker's too
            CountDownLatch sent = new CountDownLatch(ADDS);
            List<Future<Soap.Result>> adds = new ArrayList<>();
            for (int i = 0; i < ADDS; i++) {
                // four LAN hosts, each under its connection cap (16) and its quota
                InetAddress host = InetAddress.getByName("127.0.0." + (60 + i / PER_HOST));
                String body = Soap.envelope(WAN_IP, "AddPortMapping", "NewRemoteHost", "", "NewExternalPort",
                        Integer.toString(41000 + i), "NewProtocol", "TCP", "NewInternalPort", "9000",
                        "NewInternalClient", host.getHostAddress(), "NewEnabled", "1",
                        "NewPortMappingDescription", "held " + i, "NewLeaseDuration", "3600");
                adds.add(clients.submit(() -> call(control, host, "AddPortMapping", body, sent)));
            }
            assertTrue(sent.await(30, TimeUnit.SECONDS), "every add sent");
            await().atMost(Duration.ofSeconds(30)).until(() -> commitsHeld.get() >= 1);

            Soap.Result ip = soap.call("GetExternalIPAddress");
            assertTrue(ip.ok(), ip.toString());
            assertEquals("127.0.1.1", ip.out("NewExternalIPAddress"));
            for (Future<Soap.Result> add : adds) {
                assertFalse(add.isDone(), "an add was answered before the disk wrote it");
            }

            disk.countDown();
            for (Future<Soap.Result> add : adds) {
                Soap.Result r = add.get(30, TimeUnit.SECONDS);
                assertTrue(r.ok(), r.toString());
            }
            assertEquals(ADDS, gw.table.view().size());
        } finally {
            disk.countDown();
            clients.shutdownNow();
        }
    }

    @Test
    void anAddTheTableDoesNotAnswerInTimeIsAnActionFailedAfterTheBound() throws Exception {
        CountDownLatch disk = new CountDownLatch(1);
        // resources close in reverse order: the disk opens before the table stops
        try (TestGateway gw = TestGateway.start(slowDisk(disk, new AtomicInteger()), igd -> igd.requestTimeout(Duration.ofSeconds(60)));
             AutoCloseable opened = disk::countDown) {
            Soap.Result r = gw.soap(2).call("AddPortMapping", "NewRemoteHost", "", "NewExternalPort", "42000",
                    "NewProtocol", "TCP", "NewInternalPort", "9000", "NewInternalClient", "127.0.0.1", "NewEnabled", "1",
                    "NewPortMappingDescription", "never written", "NewLeaseDuration", "3600");
            assertEquals(500, r.status(), r.toString());
            assertEquals(UpnpError.ACTION_FAILED.code(), r.errorCode(), r.toString());
            assertEquals(1, disk.getCount(), "answered while the disk still held the commit");
        }
    }

    /** One SOAP call on its own connection; {@code sent} counts down once the request is written. */
    private static Soap.Result call(URI control, InetAddress from, String action, String body, CountDownLatch sent)
            throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "text/xml; charset=\"utf-8\"");
        headers.put("SOAPAction", "\"" + WAN_IP + "#" + action + "\"");
        String request = RawHttp.request("POST", control, control.getHost() + ":" + control.getPort(), headers, body);
        try (Socket s = new Socket()) {
            s.setSoTimeout(60_000);
            s.bind(new InetSocketAddress(from, 0));
            s.connect(new InetSocketAddress(control.getHost(), control.getPort()), 5_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.UTF_8));
            out.flush();
            sent.countDown();
            InputStream in = s.getInputStream();
            return Soap.result(RawHttp.read(in));
        }
    }
}
