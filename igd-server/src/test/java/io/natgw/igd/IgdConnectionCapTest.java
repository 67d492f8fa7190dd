package io.natgw.igd;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The UPnP HTTP listener's connection caps (issue 10), like the admin listener's: per client address the extra
 * connections are closed at once; when the total is reached, connections that sent nothing are closed to make
 * room, so idle clients cannot keep a LAN host from being answered. The request deadline is long here, so every
 * close the test sees comes from a cap.
 */
class IgdConnectionCapTest {

    private static final int TOTAL = 12;
    private static final int PER_CLIENT = 4;

    /** 0 when the server closed the connection, 1 when it is still open after a short wait. */
    private static int stillOpen(Socket s) throws IOException {
        s.setSoTimeout(500);
        try {
            return s.getInputStream().read() == -1 ? 0 : 1;
        } catch (SocketTimeoutException e) {
            return 1;
        } catch (java.net.SocketException e) {
            return 0; // reset
        }
    }

    @Test
    void idleClientsAreCappedAndALanHostIsStillAnswered() throws Exception {
        try (TestGateway gw = TestGateway.start(igd -> igd.requestTimeout(Duration.ofSeconds(60)).connectionCaps(TOTAL, PER_CLIENT))) {
            URI d = gw.description(1);
            List<Socket> idle = new ArrayList<>();
            try {
                InetAddress one = InetAddress.getByName("127.0.0.40");
                for (int i = 0; i < PER_CLIENT + 2; i++) {
                    Socket s = new Socket();
                    idle.add(s);
                    s.bind(new InetSocketAddress(one, 0));
                    s.connect(new InetSocketAddress(d.getHost(), d.getPort()), 5_000);
                }
                int open = 0;
                for (Socket s : idle) {
                    open += stillOpen(s);
                }
                assertEquals(PER_CLIENT, open, "connections from one client held");

                for (int a = 0; a < 6; a++) { // 6 × 4 = 24 idle connections for a total of 12
                    InetAddress from = InetAddress.getByName("127.0.0." + (41 + a));
                    for (int i = 0; i < PER_CLIENT; i++) {
                        Socket s = new Socket();
                        idle.add(s);
                        s.bind(new InetSocketAddress(from, 0));
                        s.connect(new InetSocketAddress(d.getHost(), d.getPort()), 5_000);
                    }
                }
                RawHttp.Response r = RawHttp.get(d, Map.of());
                assertEquals(200, r.status(), "a LAN host is answered while idle clients fill the total");
                int held = 0;
                for (Socket s : idle) {
                    held += stillOpen(s);
                }
                assertTrue(held <= TOTAL, held + " idle connections held, total cap " + TOTAL);
            } finally {
                for (Socket s : idle) {
                    s.close();
                }
            }
        }
    }

    /**
     * A client at its cap that opens its next connection as soon as each answer's close reaches it (as upnpc does, 16
     * at once here) is never over the cap: the server gives the slot back before its close reaches the client, not
     * after the event loop has run the channel's inactive event.
     */
    @Test
    void aClientAtItsCapThatReconnectsAfterEachAnswerIsNeverRefused() throws Exception {
        try (TestGateway gw = TestGateway.start(igd -> igd.requestTimeout(Duration.ofSeconds(60)).connectionCaps(TOTAL, PER_CLIENT))) {
            Soap soap = gw.soap(2);
            InetAddress one = InetAddress.getByName("127.0.0.50");
            ExecutorService clients = Executors.newFixedThreadPool(PER_CLIENT);
            try {
                List<Future<List<Soap.Result>>> runs = new ArrayList<>();
                for (int c = 0; c < PER_CLIENT; c++) {
                    runs.add(clients.submit(() -> {
                        List<Soap.Result> failed = new ArrayList<>();
                        for (int i = 0; i < CALLS_PER_CONNECTION_SLOT; i++) {
                            Soap.Result r = soap.callFrom(one, "GetExternalIPAddress");
                            if (!r.ok()) {
                                failed.add(r);
                            }
                        }
                        return failed;
                    }));
                }
                for (Future<List<Soap.Result>> run : runs) {
                    assertEquals(List.of(), run.get(120, TimeUnit.SECONDS), "calls refused or cut");
                }
            } finally {
                clients.shutdownNow();
            }
        }
    }

    private static final int CALLS_PER_CONNECTION_SLOT = 200;
}
