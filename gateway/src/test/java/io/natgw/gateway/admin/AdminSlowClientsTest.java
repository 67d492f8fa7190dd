package io.natgw.gateway.admin;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Slow and unauthenticated admin clients (issue 10): connections that never finish their head are cut at the
 * head deadline, connections over the total or per-client cap are closed at once, so they cannot exhaust the
 * daemon's descriptors and a legitimate request is still answered; an API request without a token is refused
 * on its head, before its body is read.
 */
class AdminSlowClientsTest {

    @TempDir
    Path dataDir;

    private static final int PER_CLIENT = 8;
    private static final int TOTAL = 48;
    /** Deadlines long enough that the caps, not the deadlines, bound what is held while the test measures. */
    private static final AdminLimits SHORT = new AdminLimits(Duration.ofSeconds(8), Duration.ofSeconds(8), TOTAL, PER_CLIENT);

    private static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    private static InetSocketAddress target(AdminFixture f) {
        URI u = URI.create(f.base);
        return new InetSocketAddress(u.getHost(), u.getPort());
    }

    @Test
    void slowClientsDoNotExhaustDescriptorsAndALegitimateRequestIsAnswered() throws Exception {
        try (AdminFixture f = new AdminFixture(dataDir, true, SHORT)) {
            long before = openDescriptors();
            List<Socket> attackers = new ArrayList<>();
            int addresses = 10;
            int perAddress = PER_CLIENT + 4; // 120 attempts in all: over both caps
            try {
                for (int a = 0; a < addresses; a++) {
                    InetAddress from = InetAddress.getByName("127.0.0." + (50 + a));
                    for (int i = 0; i < perAddress; i++) {
                        Socket s = new Socket();
                        attackers.add(s);
                        s.bind(new InetSocketAddress(from, 0));
                        s.connect(target(f), 5_000);
                        s.setSoTimeout(30_000);
                        if (i % 2 == 0) { // half dribble a head that never ends, half send nothing
                            s.getOutputStream().write("GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1"
                                    .getBytes(StandardCharsets.US_ASCII));
                        }
                    }
                }
                int open = f.server.openConnections();
                long serverSide = openDescriptors() - before - attackers.size();
                System.out.println("slow admin clients: " + attackers.size() + " connections tried, " + open
                        + " held by the server, its descriptor growth " + serverSide);
                assertTrue(open <= TOTAL, open + " connections open");
                // the server's descriptors: the capped connections plus a little for the JDK and Netty
                assertTrue(serverSide <= TOTAL + 24, "server-side descriptors grew by " + serverSide);

                long t0 = System.nanoTime();
                AdminFixture.Reply status = f.call("GET", "/api/v1/status", null);
                long millis = (System.nanoTime() - t0) / 1_000_000;
                System.out.println("legitimate admin request during the attack: " + status.status() + " in " + millis + " ms");
                assertEquals(200, status.status(), status.text());
                assertTrue(millis < 10_000, "answered within the 10 s ceiling (a hang), took " + millis + " ms");

                // the head deadline closes every connection the caps let in
                for (Socket s : attackers) {
                    assertEquals(-1, readToEnd(s.getInputStream()), "closed by the server");
                }
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> f.server.openConnections() == 0);
            } finally {
                for (Socket s : attackers) {
                    s.close();
                }
            }
        }
    }

    /** Reads until the end of the stream (-1), or returns the first byte that arrived instead. */
    private static int readToEnd(InputStream in) throws IOException {
        try {
            return in.read();
        } catch (java.net.SocketException e) {
            return -1; // reset by the server: closed too
        }
    }

    @Test
    void anApiRequestWithoutATokenIsRefusedBeforeItsBodyIsRead() throws Exception {
        try (AdminFixture f = new AdminFixture(dataDir, true, SHORT); Socket s = new Socket()) {
            s.connect(target(f), 5_000);
            s.setSoTimeout(30_000);
            s.getOutputStream().write(("POST /api/v1/mappings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 60000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            // no body byte is sent: the answer must come from the head alone
            String answer = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
            assertEquals("HTTP/1.1 401", answer);
        }
    }

    @Test
    void aWrongTokenIsRefusedOnTheHeadToo() throws Exception {
        try (AdminFixture f = new AdminFixture(dataDir, true, SHORT); Socket s = new Socket()) {
            s.connect(target(f), 5_000);
            s.setSoTimeout(30_000);
            s.getOutputStream().write(("POST /api/v1/mappings HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer wrong\r\n"
                    + "Content-Length: 60000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            assertEquals("HTTP/1.1 403", new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII));
        }
    }
}
