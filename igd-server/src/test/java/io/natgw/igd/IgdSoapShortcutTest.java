package io.natgw.igd;

import io.natgw.conf.Protocol;
import io.natgw.core.MappingKey;
import io.natgw.core.WanLink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SoapShortcut} answers as jupnp does: each call is sent twice over real HTTP, once as clients send it
 * (the shortcut takes it) and once with a comment in the Body (the shortcut leaves it to jupnp), and the two
 * answers must be the same, status, headers and body. Calls that change the table are paired on two ports, so
 * both paths meet the same state. And the abuse side: bodies the shortcut must not take go to jupnp, which
 * refuses them as before, and nothing ran.
 */
class IgdSoapShortcutTest {

    private static final InetAddress A = TestGateway.address("127.0.0.1");
    private static final InetAddress B = TestGateway.address("127.0.0.2");
    private static final String V1 = "urn:schemas-upnp-org:service:WANIPConnection:1";
    private static final String V2 = "urn:schemas-upnp-org:service:WANIPConnection:2";
    private static final String COMMON = "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1";
    private static final WanLink.Reading UP = new WanLink.Reading("wan0", WanLink.State.UP, 5_000_000_000L, 1234, 77, 66,
            100_000_000L, 50_000_000L, null);
    private static TestGateway gw;
    private static URI v1;
    private static URI v2;
    private static URI common;

    @BeforeAll
    static void start() throws Exception {
        gw = TestGateway.start(TestGateway.config(true, 128), 0, new TestLink(UP));
        v1 = gw.control(1);
        v2 = gw.control(2);
        common = Descriptions.controlUrl(gw.description(1), COMMON);
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
    }

    /** Sends {@code body} as a client does; asserts which path answered. */
    private static RawHttp.Response send(URI control, String type, String action, InetAddress from, String body,
                                         boolean shortcut) throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "text/xml; charset=\"utf-8\"");
        headers.put("SOAPAction", "\"" + type + "#" + action + "\"");
        long before = gw.igd.shortcutAnswers();
        RawHttp.Response r = RawHttp.exchange(control, from,
                RawHttp.request("POST", control, control.getHost() + ":" + control.getPort(), headers, body));
        assertEquals(shortcut ? before + 1 : before, gw.igd.shortcutAnswers(),
                action + (shortcut ? " was not answered by the shortcut" : " was answered by the shortcut") + ": " + body);
        return r;
    }

    /** The envelope jupnp alone takes: the same call with a comment before the action's element. */
    private static String forJupnp(String envelope) {
        return envelope.replace("<s:Body>", "<s:Body><!-- to jupnp -->");
    }

    /** The two paths' answers to one call (on two ports when it changes the table: {@code port2} replaces {@code port1}). */
    private static RawHttp.Response same(URI control, String type, InetAddress from, String action, String... args)
            throws Exception {
        return sameOnTwoPorts(control, type, from, null, null, action, args);
    }

    private static RawHttp.Response sameOnTwoPorts(URI control, String type, InetAddress from, String port1, String port2,
                                                   String action, String... args) throws Exception {
        String viaShortcut = Soap.envelope(type, action, args);
        String viaJupnp = forJupnp(port1 == null ? viaShortcut : Soap.envelope(type, action, swap(args, port1, port2)));
        RawHttp.Response fast = send(control, type, action, from, viaShortcut, true);
        RawHttp.Response slow = send(control, type, action, from, viaJupnp, false);
        assertEquals(slow.status(), fast.status(), action);
        assertEquals(slow.headers(), fast.headers(), action);
        assertEquals(slow.body(), fast.body(), action);
        return fast;
    }

    private static String[] swap(String[] args, String from, String to) {
        String[] out = args.clone();
        for (int i = 1; i < out.length; i += 2) {
            if (out[i].equals(from)) {
                out[i] = to;
            }
        }
        return out;
    }

    private static String[] add(String port, String description) {
        return add(port, description, A);
    }

    private static String[] add(String port, String description, InetAddress client) {
        return new String[]{"NewRemoteHost", "", "NewExternalPort", port, "NewProtocol", "TCP", "NewInternalPort", "8000",
                "NewInternalClient", client.getHostAddress(), "NewEnabled", "1", "NewPortMappingDescription", description,
                "NewLeaseDuration", "0"};
    }

    @Test
    void everyKindOfAnswerIsJupnpsByteForByte() throws Exception {
        assertEquals(200, same(v1, V1, A, "GetExternalIPAddress").status());
        same(v2, V2, A, "GetStatusInfo");
        same(v1, V1, A, "GetNATRSIPStatus");
        same(v2, V2, A, "GetConnectionTypeInfo");
        same(common, COMMON, A, "GetCommonLinkProperties");
        same(common, COMMON, A, "GetTotalBytesReceived");
        assertTrue(same(v1, V1, A, "SetConnectionType", "NewConnectionType", "IP_Bridged").body().contains("<errorCode>731<"));

        // a description with every character XML escapes, and non-ASCII
        RawHttp.Response added = sameOnTwoPorts(v1, V1, A, "40001", "40002", "AddPortMapping", add("40001", "a&amp;b &lt;c&gt; \"d\" 'e' é"));
        assertEquals(200, added.status(), added.body());
        assertEquals("a&b <c> \"d\" 'e' é", gw.table.view().find(MappingKey.of(Protocol.TCP, 40001)).orElseThrow().description());
        assertTrue(gw.table.view().find(MappingKey.of(Protocol.TCP, 40002)).isPresent());
        RawHttp.Response entry = sameOnTwoPorts(v1, V1, A, "40001", "40002", "GetSpecificPortMappingEntry",
                "NewRemoteHost", "", "NewExternalPort", "40001", "NewProtocol", "TCP");
        assertTrue(entry.body().contains("<NewPortMappingDescription>a&amp;b &lt;c&gt; \"d\" 'e' é<"), entry.body());
        same(v1, V1, A, "GetGenericPortMappingEntry", "NewPortMappingIndex", "0");
        RawHttp.Response listing = same(v2, V2, A, "GetListOfPortMappings", "NewStartPort", "40001", "NewEndPort", "40002",
                "NewProtocol", "TCP", "NewManage", "1", "NewNumberOfPorts", "10");
        assertTrue(listing.body().contains("<NewPortListing><![CDATA[<?xml"), listing.body());

        // the table's refusals: another host's port, an unknown entry, an index past the end
        assertTrue(sameOnTwoPorts(v1, V1, B, "40001", "40002", "AddPortMapping", add("40001", "b", B)).body().contains("<errorCode>718<"));
        assertTrue(same(v1, V1, A, "DeletePortMapping", "NewRemoteHost", "", "NewExternalPort", "40999", "NewProtocol", "TCP")
                .body().contains("<errorCode>714<"));
        assertTrue(same(v1, V1, A, "GetGenericPortMappingEntry", "NewPortMappingIndex", "99").body().contains("<errorCode>713<"));
        // values the argument types refuse
        for (String port : List.of("-1", "70000", "abc", "")) {
            RawHttp.Response r = same(v1, V1, A, "AddPortMapping", add(port, "bad"));
            assertTrue(r.body().contains("<errorCode>402<") || r.body().contains("<errorCode>716<"), port + ": " + r.body());
        }
        assertEquals(200, sameOnTwoPorts(v1, V1, A, "40001", "40002", "DeletePortMapping",
                "NewRemoteHost", "", "NewExternalPort", "40001", "NewProtocol", "TCP").status());
        assertTrue(gw.table.view().find(MappingKey.of(Protocol.TCP, 40001)).isEmpty());
        assertTrue(gw.table.view().find(MappingKey.of(Protocol.TCP, 40002)).isEmpty());
    }

    @Test
    void bodiesOfAnyOtherShapeGoToJupnpAndRunNothing() throws Exception {
        String call = Soap.envelope(V1, "AddPortMapping", add("40100", "odd"));
        List<String> odd = List.of(
                "<!DOCTYPE x [<!ENTITY e \"40100\">]>" + call.substring(call.indexOf("<s:Envelope")).replace(">40100<", ">&e;<"),
                call.replace("<NewExternalPort>40100<", "<NewExternalPort><![CDATA[40100]]><"),
                call.replace("<NewExternalPort>40100<", "<NewExternalPort><x>40100</x><"),
                call.replace("<NewEnabled>1</NewEnabled>", ""),                                          // an argument missing
                call.replace("xmlns:u=\"" + V1 + "\"", "xmlns:u=\"urn:example:other\""),               // another namespace
                call + "<trailing/>",
                call.replace("</s:Envelope>", ""));                                                      // not well-formed
        for (String body : odd) {
            RawHttp.Response r = send(v1, V1, "AddPortMapping", A, body, false);
            assertEquals(500, r.status(), body + "\n" + r.body());
            assertTrue(r.body().contains("<errorCode>402<"), body + "\n" + r.body());
        }
        assertTrue(gw.table.view().find(MappingKey.of(Protocol.TCP, 40100)).isEmpty());
        // what jupnp skips and runs (a SOAP Header, a processing instruction) it still runs: the shortcut never does
        String ip = Soap.envelope(V1, "GetExternalIPAddress");
        for (String body : List.of(ip.replace("<s:Body>", "<s:Header><x/></s:Header><s:Body>"), ip.replace("<s:Body>", "<s:Body><?pi x?>"))) {
            RawHttp.Response r = send(v1, V1, "GetExternalIPAddress", A, body, false);
            assertEquals(200, r.status(), body + "\n" + r.body());
            assertTrue(r.body().contains("127.0.1.1"), r.body());
        }
    }

    @Test
    void aCallNamingAnotherVersionOrQueryStateVariableGoesToJupnp() throws Exception {
        // a v1 SOAPAction at the v2 control URL (v2 implements v1)
        RawHttp.Response r = send(v2, V1, "GetExternalIPAddress", A, Soap.envelope(V1, "GetExternalIPAddress"), false);
        assertEquals(200, r.status(), r.body());
        assertTrue(r.body().contains("127.0.1.1"), r.body());
        r = send(v1, "urn:schemas-upnp-org:control-1-0", "QueryStateVariable", A,
                Soap.envelope("urn:schemas-upnp-org:control-1-0", "QueryStateVariable", "varName", "ExternalIPAddress"), false);
        assertTrue(r.body().contains("127.0.1.1"), r.body());
    }

    @Test
    void argumentsReadsOnlyThePlainShape() {
        String call = Soap.envelope(V1, "GetSpecificPortMappingEntry", "NewRemoteHost", "", "NewExternalPort", "80",
                "NewProtocol", "T&amp;CP", "NewExternalPort", "81");
        Map<String, String> args = SoapShortcut.arguments(call, "GetSpecificPortMappingEntry", V1);
        assertNotNull(args);
        // the first of a repeated name wins, as jupnp reads it; entities are resolved
        assertEquals(Map.of("NewRemoteHost", "", "NewExternalPort", "80", "NewProtocol", "T&CP"), args);
        assertNull(SoapShortcut.arguments(call, "DeletePortMapping", V1));
        assertNull(SoapShortcut.arguments(call, "GetSpecificPortMappingEntry", V2));
        assertNull(SoapShortcut.arguments(call.replace("<NewProtocol>", "<!-- c --><NewProtocol>"), "GetSpecificPortMappingEntry", V1));
        assertNull(SoapShortcut.arguments(call.replace("T&amp;CP", "T&CP"), "GetSpecificPortMappingEntry", V1));
        assertNull(SoapShortcut.arguments("", "GetSpecificPortMappingEntry", V1));
        assertFalse(SoapShortcut.arguments(call, "GetSpecificPortMappingEntry", V1).containsKey("x"));
    }
}
