package io.natgw.igd;

import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** XML, HTTP and rebinding defences of the IGD's HTTP side, each shown with the attack it stops. */
class IgdHardeningTest {

    private static TestGateway gw;
    private static URI control;

    @BeforeAll
    static void start() throws Exception {
        gw = TestGateway.start();
        control = gw.control(1);
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
    }

    private static String addBody(String doctype, String description) {
        return "<?xml version=\"1.0\"?>" + doctype
                + "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
                + "<u:AddPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\"><NewRemoteHost></NewRemoteHost>"
                + "<NewExternalPort>9100</NewExternalPort><NewProtocol>TCP</NewProtocol><NewInternalPort>9100</NewInternalPort>"
                + "<NewInternalClient>127.0.0.1</NewInternalClient><NewEnabled>1</NewEnabled>"
                + "<NewPortMappingDescription>" + description + "</NewPortMappingDescription>"
                + "<NewLeaseDuration>60</NewLeaseDuration></u:AddPortMapping></s:Body></s:Envelope>";
    }

    @Test
    void externalEntityIsRefusedAndNothingLeaks() throws Exception {
        Path secret = Files.createTempFile("natgw-xxe", ".txt");
        try {
            Files.writeString(secret, "TOP-SECRET-" + System.nanoTime());
            String body = addBody("<!DOCTYPE d [<!ENTITY x SYSTEM \"" + secret.toUri() + "\">]>", "&x;");
            Soap.Result r = gw.soap(1).raw(null, "AddPortMapping", body);
            assertTrue(r.status() == 500 && r.errorCode() == 402, r.status() + " " + r.body());
            assertFalse(r.body().contains("TOP-SECRET"), r.body());
            assertEquals(0, gw.table.view().size(), "no mapping was made");
            Soap.Result get = gw.soap(1).raw(null, "GetGenericPortMappingEntry",
                    "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"" + secret.toUri() + "\">]>"
                            + "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
                            + "<u:GetGenericPortMappingEntry xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\">"
                            + "<NewPortMappingIndex>&x;</NewPortMappingIndex></u:GetGenericPortMappingEntry></s:Body></s:Envelope>");
            assertFalse(get.body().contains("TOP-SECRET"), get.body());
            assertEquals(402, get.errorCode(), get.body());
        } finally {
            Files.delete(secret);
        }
    }

    @Test
    void billionLaughsIsRefusedWithoutExpandingIt() throws Exception {
        StringBuilder dtd = new StringBuilder("<!DOCTYPE lolz [<!ENTITY lol \"lol\">");
        for (int i = 1; i <= 9; i++) {
            dtd.append("<!ENTITY lol").append(i).append(" \"");
            for (int j = 0; j < 10; j++) {
                dtd.append(i == 1 ? "&lol;" : "&lol" + (i - 1) + ";");
            }
            dtd.append("\">");
        }
        dtd.append("]>");
        // expanded, &lol9; is 10^9 "lol"s: the generous ceiling only catches a parser that tries
        Soap.Result r = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> gw.soap(1).raw(null, "AddPortMapping", addBody(dtd.toString(), "&lol9;")));
        assertEquals(List.of(500, 402), List.of(r.status(), r.errorCode()), r.body());
        assertEquals(0, gw.table.view().size());
    }

    @Test
    void hostHeaderMustBeAnIpLiteral() throws Exception {
        URI d = gw.description(1);
        String path = d.getRawPath();
        assertEquals(403, RawHttp.exchange(d, null, "GET " + path + " HTTP/1.1\r\nHost: evil.example:" + d.getPort()
                + "\r\nConnection: close\r\n\r\n").status());
        assertEquals(403, RawHttp.exchange(d, null, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").status());
        assertEquals(403, RawHttp.exchange(d, null, "GET " + path + " HTTP/1.0\r\n\r\n").status(), "no Host at all");
        assertEquals(200, RawHttp.exchange(d, null, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + d.getPort()
                + "\r\nConnection: close\r\n\r\n").status());
        assertEquals(List.of(true, true, false, false, false), List.of(RequestGuard.hostIsLiteral("[::1]:80"),
                RequestGuard.hostIsLiteral("10.0.0.1"), RequestGuard.hostIsLiteral("10.0.0.1.nip.io"),
                RequestGuard.hostIsLiteral("999.0.0.1"), RequestGuard.hostIsLiteral("0x7f.1")));
    }

    @Test
    void oversizedBodyAndTooManyHeadersAreRefused() throws Exception {
        String big = "x".repeat(70 * 1024);
        RawHttp.Response r = RawHttp.exchange(control, null, RawHttp.request("POST", control,
                "127.0.0.1:" + control.getPort(), Map.of("Content-Type", "text/xml"), big));
        assertEquals(413, r.status());
        Map<String, String> many = new LinkedHashMap<>();
        for (int i = 0; i < 100; i++) {
            many.put("X-Filler-" + i, "1");
        }
        assertEquals(431, RawHttp.exchange(control, null, RawHttp.request("GET", gw.description(1),
                "127.0.0.1:" + control.getPort(), many, null)).status());
        assertEquals(0, gw.table.view().size());
    }

    @Test
    void aSlowRequestIsCutOff() throws Exception {
        try (Socket s = new Socket()) {
            s.setSoTimeout(60_000); // a generous ceiling: only a server that never cuts it off fails here
            s.connect(new InetSocketAddress(control.getHost(), control.getPort()));
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.US_ASCII));
            long t0 = System.nanoTime();
            InputStream in = s.getInputStream();
            assertEquals(-1, in.read(), "closed without an answer");
            long millis = (System.nanoTime() - t0) / 1_000_000;
            // a lower bound only (a busy machine makes it longer, never shorter): not cut before its limit
            assertTrue(millis >= 1000, "closed after " + millis + " ms, before the 1500 ms limit");
        }
    }

    @Test
    void requestsFromOutsideTheLanAreNotAnswered() throws Exception {
        NatgwConfig base = TestGateway.config(true, 16);
        NatgwConfig onlyOne = new NatgwConfig(base.source(), new NatgwConfig.Network(base.network().lanAddresses(),
                List.of(Cidr.parse("127.0.0.1/32")), List.of(), base.network().wanAddress(), false, ""),
                base.dataDir(), base.pcp(), base.upnp(), base.admin(), base.limits(), base.permissions(),
                base.staticMappings(), base.triggers(), base.dataplane());
        try (TestGateway strict = TestGateway.start(onlyOne, 0, TestLink.up())) {
            URI d = strict.description(1);
            RawHttp.Response fromWan = RawHttp.exchange(d, TestGateway.address("127.0.0.5"),
                    "GET " + d.getRawPath() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            assertEquals(0, fromWan.status(), "closed without an answer: " + fromWan.body());
            RawHttp.Response fromLan = RawHttp.exchange(d, TestGateway.address("127.0.0.1"),
                    "GET " + d.getRawPath() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            assertEquals(200, fromLan.status());
        }
    }

    @Test
    void notifyToTheDeviceIsRefused() throws Exception {
        RawHttp.Response r = RawHttp.exchange(control, null, RawHttp.request("NOTIFY", control,
                "127.0.0.1:" + control.getPort(), Map.of("NT", "upnp:event", "NTS", "upnp:propchange", "SID", "uuid:x", "SEQ", "0"),
                "<e:propertyset xmlns:e=\"urn:schemas-upnp-org:event-1-0\"/>"));
        assertEquals(404, r.status());
    }
}
