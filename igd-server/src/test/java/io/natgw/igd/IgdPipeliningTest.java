package io.natgw.igd;

import io.natgw.core.Mapping;
import io.natgw.dataplane.EpollKeepRegistered;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pipelined requests on one raw connection (issue 10): answers come in request order, and a refused request
 * (too many pipelined, a bad Host …) has no side effect and hides no answer: every mapping in the table was
 * answered 200, and nothing after the refusal ran.
 */
class IgdPipeliningTest {

    private static final int FIRST_PORT = 9201;
    private TestGateway gw;
    private URI control;

    @BeforeEach
    void start() throws Exception {
        gw = TestGateway.start();
        control = gw.control(1);
    }

    @AfterEach
    void stop() throws Exception {
        gw.close();
    }

    private String add(int port, String host) {
        String body = "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
                + "<u:AddPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\"><NewRemoteHost></NewRemoteHost>"
                + "<NewExternalPort>" + port + "</NewExternalPort><NewProtocol>TCP</NewProtocol>"
                + "<NewInternalPort>" + port + "</NewInternalPort><NewInternalClient>127.0.0.1</NewInternalClient>"
                + "<NewEnabled>1</NewEnabled><NewPortMappingDescription>p" + port + "</NewPortMappingDescription>"
                + "<NewLeaseDuration>600</NewLeaseDuration></u:AddPortMapping></s:Body></s:Envelope>";
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        return "POST " + control.getRawPath() + " HTTP/1.1\r\nHost: " + host + "\r\n"
                + "Content-Type: text/xml; charset=\"utf-8\"\r\n"
                + "SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\"\r\n"
                + "Content-Length: " + b.length + "\r\n\r\n" + body;
    }

    /** Writes all requests in one go, then reads every response until the server closes. */
    private List<Integer> pipeline(List<String> requests) throws IOException {
        try (Socket s = new Socket()) {
            s.setSoTimeout(20_000);
            s.connect(new InetSocketAddress(control.getHost(), control.getPort()), 5_000);
            s.getOutputStream().write(String.join("", requests).getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            s.shutdownOutput(); // half-close: the server answers what it read, then closes
            List<Integer> statuses = new ArrayList<>();
            Matcher m = Pattern.compile("HTTP/1\\.1 (\\d{3}) ").matcher(RawHttp.readUntilClosed(s.getInputStream()));
            while (m.find()) {
                statuses.add(Integer.parseInt(m.group(1)));
            }
            return statuses;
        }
    }

    private Set<Integer> mappedPorts() {
        Set<Integer> out = new TreeSet<>();
        for (Mapping m : gw.table.view().mappings()) {
            out.add(m.externalPort());
        }
        return out;
    }

    @Test
    void twelvePipelinedAddsAreAnsweredInOrderAndARefusalHasNoSideEffect() throws Exception {
        List<String> requests = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            requests.add(add(FIRST_PORT + i, "127.0.0.1:" + control.getPort()));
        }
        List<Integer> statuses = pipeline(requests);
        System.out.println("12 pipelined AddPortMapping: statuses " + statuses);
        int ok = 0;
        while (ok < statuses.size() && statuses.get(ok) == 200) {
            ok++;
        }
        assertTrue(ok >= 1, "the first request is answered first: " + statuses);
        // after the answered ones, at most one refusal (429) and then nothing
        assertTrue(statuses.size() == ok || (statuses.size() == ok + 1 && statuses.get(ok) == 429), statuses.toString());
        Set<Integer> expected = new TreeSet<>();
        for (int i = 0; i < ok; i++) {
            expected.add(FIRST_PORT + i);
        }
        assertEquals(expected, mappedPorts(), "exactly the requests answered 200 were mapped: " + statuses);
        if (statuses.size() == ok) {
            assertEquals(12, ok, "without a refusal every request is answered: " + statuses);
        }
    }

    /**
     * A client that pipelines its requests, half-closes and only then reads, through a small receive buffer, against
     * a server whose connections have a small send buffer: the answers outgrow what the sockets hold, so the server
     * waits for room to write after its input was shut down. On epoll, Netty 4.2.18's own event loops had dropped
     * the channel from the epoll set by then, and the wait for room failed: the client got 2 of its 8 answers.
     * The daemon's event loops (the dataplane's {@link EpollKeepRegistered}) deliver all 8 whole.
     */
    @Test
    void aHalfClosedClientReadingSlowlyGetsEveryAnswerWhole() throws Exception {
        gw.close();
        gw = TestGateway.start(igd -> igd.sendBuffer(4096).epollHandler(new EpollKeepRegistered()));
        assertEquals("epoll", gw.igd.httpTransport(), "the transport whose defect this is about");
        URI d = gw.description(2);
        String get = "GET " + d.getRawPath() + " HTTP/1.1\r\nHost: " + d.getHost() + ":" + d.getPort() + "\r\n\r\n";
        RawHttp.Response one = RawHttp.exchange(d, null, get.getBytes(StandardCharsets.UTF_8), true);
        assertEquals(200, one.status());
        int bodyLength = one.body().length();
        for (int attempt = 0; attempt < 3; attempt++) {
            try (Socket s = new Socket()) {
                s.setSoTimeout(20_000);
                s.setReceiveBufferSize(1024); // before connect: the window the server sees stays small
                s.connect(new InetSocketAddress(d.getHost(), d.getPort()), 5_000);
                s.getOutputStream().write(get.repeat(8).getBytes(StandardCharsets.UTF_8));
                s.shutdownOutput();
                // Read only once the server waits for room (the kernel's zero-window probe on its side) or gave up.
                int client = s.getLocalPort();
                await().atMost(Duration.ofSeconds(20)).until(() -> serverWaitsOrGaveUp(d.getPort(), client));
                String all = RawHttp.readUntilClosed(s.getInputStream());
                Matcher m = Pattern.compile("HTTP/1\\.1 200 ").matcher(all);
                int answers = 0;
                while (m.find()) {
                    answers++;
                }
                assertEquals(8, answers, "answers on attempt " + attempt + " (" + all.length() + " characters read)");
                assertTrue(all.length() >= 8 * bodyLength, "every body whole: " + all.length() + " < 8 x " + bodyLength);
            }
        }
    }

    /**
     * Whether the server's side of the connection from {@code clientPort} (in {@code /proc/net/tcp} or {@code tcp6})
     * waits for the client's window to open (its zero-window probe timer runs), or is no longer open (gone, or past
     * CLOSE_WAIT: the server closed it).
     */
    private static boolean serverWaitsOrGaveUp(int serverPort, int clientPort) throws IOException {
        String local = String.format(":%04X", serverPort);
        String remote = String.format(":%04X", clientPort);
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            for (String line : Files.readAllLines(Path.of(table))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 5 && f[1].endsWith(local) && f[2].endsWith(remote)) {
                    boolean open = f[3].equals("01") || f[3].equals("08"); // ESTABLISHED, CLOSE_WAIT
                    return !open || f[5].startsWith("04:"); // 4: the zero-window probe timer
                }
            }
        }
        return true;
    }

    @Test
    void aRefusedRequestInThePipelineComesAfterTheAnswersBeforeItAndStopsWhatFollows() throws Exception {
        String good = "127.0.0.1:" + control.getPort();
        List<Integer> statuses = pipeline(List.of(add(FIRST_PORT, good), add(FIRST_PORT + 1, good),
                add(FIRST_PORT + 2, "evil.example"), add(FIRST_PORT + 3, good)));
        assertEquals(List.of(200, 200, 403), statuses);
        assertEquals(Set.of(FIRST_PORT, FIRST_PORT + 1), mappedPorts());
    }
}
