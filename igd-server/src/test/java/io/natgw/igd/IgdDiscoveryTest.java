package io.natgw.igd;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SSDP and descriptions: which LOCATION and ST each search target gets, multicast and unicast; and
 * Windows/Xbox User-Agents always reading the IGD:1 description. SSDP runs on a free port instead of 1900 so parallel test runs do not answer each other.
 */
class IgdDiscoveryTest {

    private static TestGateway gw;
    private static int ssdpPort;

    @BeforeAll
    static void start() throws Exception {
        try (DatagramSocket probe = new DatagramSocket(0, TestGateway.LAN)) {
            ssdpPort = probe.getLocalPort();
        }
        gw = TestGateway.start(TestGateway.config(true, 16), ssdpPort, TestLink.up());
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
    }

    /** A ceiling for the answers a test expects: only a gateway that never answers reaches it. */
    private static final int EXPECTED_WITHIN = 30_000;
    /** After the expected answers: how long no further answer must come. */
    private static final int SILENCE = 500;

    /** One answer: its ST and LOCATION. */
    record Answer(String st, String location) {
    }

    /**
     * Sends one M-SEARCH and collects the answers from our IGD: it waits (generously) for {@code expected} of
     * them, then until no more come for {@link #SILENCE}. The gateway answers at once, without MX's random
     * delay; that it does so within the 250 ms some clients wait is not asserted here (wall-clock).
     */
    private static List<Answer> search(String st, boolean multicast, int expected) throws IOException {
        String msg = "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\nST: " + st + "\r\n\r\n";
        byte[] bytes = msg.getBytes(StandardCharsets.US_ASCII);
        List<Answer> out = new ArrayList<>();
        try (MulticastSocket s = new MulticastSocket(new InetSocketAddress(TestGateway.LAN, 0))) {
            s.setNetworkInterface(NetworkInterface.getByInetAddress(TestGateway.LAN));
            InetAddress to = multicast ? InetAddress.getByName("239.255.255.250") : TestGateway.LAN;
            s.send(new DatagramPacket(bytes, bytes.length, to, ssdpPort));
            byte[] buf = new byte[2048];
            while (out.size() < 64) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                s.setSoTimeout(out.size() < expected ? EXPECTED_WITHIN : SILENCE);
                try {
                    s.receive(p);
                } catch (SocketTimeoutException e) {
                    break;
                }
                Map<String, String> h = headers(new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII));
                String location = h.getOrDefault("location", "");
                if (location.contains(":" + gw.description(1).getPort() + "/")) {
                    out.add(new Answer(h.get("st"), location));
                }
            }
        }
        return out;
    }

    private static Map<String, String> headers(String text) {
        Map<String, String> h = new java.util.HashMap<>();
        for (String line : text.split("\r\n")) {
            int c = line.indexOf(':');
            if (c > 0) {
                h.put(line.substring(0, c).trim().toLowerCase(Locale.ROOT), line.substring(c + 1).trim());
            }
        }
        return h;
    }

    private static Set<String> locations(List<Answer> answers) {
        Set<String> s = new TreeSet<>();
        answers.forEach(a -> s.add(a.location()));
        return s;
    }

    @Test
    void aVersionOneSearchFindsTheVersionOneDescriptionWithTheStEchoed() throws Exception {
        for (String st : List.of("urn:schemas-upnp-org:device:InternetGatewayDevice:1",
                "urn:schemas-upnp-org:service:WANIPConnection:1", "urn:schemas-upnp-org:device:WANConnectionDevice:1",
                "urn:schemas-upnp-org:device:WANDevice:1")) {
            List<Answer> answers = search(st, true, 1);
            assertEquals(List.of(new Answer(st, gw.description(1).toString())), answers, st);
        }
    }

    @Test
    void aVersionTwoSearchFindsTheVersionTwoDescription() throws Exception {
        for (String st : List.of("urn:schemas-upnp-org:device:InternetGatewayDevice:2",
                "urn:schemas-upnp-org:service:WANIPConnection:2")) {
            assertEquals(List.of(new Answer(st, gw.description(2).toString())), search(st, true, 1), st);
        }
    }

    @Test
    void unicastSearchIsAnsweredToo() throws Exception {
        String st = "urn:schemas-upnp-org:device:InternetGatewayDevice:2";
        assertEquals(List.of(new Answer(st, gw.description(2).toString())), search(st, false, 1));
    }

    @Test
    void rootDeviceAndAllFindBothTrees() throws Exception {
        Set<String> both = new TreeSet<>(List.of(gw.description(1).toString(), gw.description(2).toString()));
        List<Answer> roots = search("upnp:rootdevice", true, 2);
        assertEquals(both, locations(roots));
        assertTrue(roots.stream().allMatch(a -> a.st().equals("upnp:rootdevice")), roots.toString());
        assertEquals(both, locations(search("ssdp:all", true, 2)));
    }

    @Test
    void otherTargetsGetNoAnswer() throws Exception {
        assertEquals(List.of(), search("urn:schemas-upnp-org:device:MediaRenderer:1", true, 0));
        assertEquals(List.of(), search("urn:schemas-upnp-org:service:WANIPConnection:3", true, 0));
    }

    @Test
    void windowsAndXboxAlwaysReadTheVersionOneDescription() throws Exception {
        String v2 = RawHttp.get(gw.description(2), Map.of()).body();
        assertTrue(v2.contains("InternetGatewayDevice:2") && v2.contains("WANIPConnection:2"), v2);
        for (String ua : List.of("Microsoft-Windows/10.0 UPnP/1.0", "FDSSDP")) {
            String body = RawHttp.get(gw.description(2), Map.of("User-Agent", ua)).body();
            assertTrue(body.contains("InternetGatewayDevice:1") && !body.contains("WANIPConnection:2"), ua + ": " + body);
        }
        String v1 = RawHttp.get(gw.description(1), Map.of()).body();
        assertTrue(v1.contains("WANIPConnection:1") && v1.contains("WANCommonInterfaceConfig:1")
                && v1.contains("Layer3Forwarding:1"), v1);
    }
}
