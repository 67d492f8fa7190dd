package io.natgw.igd;

import io.natgw.core.Mapping;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    @Test
    void aRefusedRequestInThePipelineComesAfterTheAnswersBeforeItAndStopsWhatFollows() throws Exception {
        String good = "127.0.0.1:" + control.getPort();
        List<Integer> statuses = pipeline(List.of(add(FIRST_PORT, good), add(FIRST_PORT + 1, good),
                add(FIRST_PORT + 2, "evil.example"), add(FIRST_PORT + 3, good)));
        assertEquals(List.of(200, 200, 403), statuses);
        assertEquals(Set.of(FIRST_PORT, FIRST_PORT + 1), mappedPorts());
    }
}
