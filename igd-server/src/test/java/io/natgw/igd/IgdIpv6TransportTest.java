package io.natgw.igd;

import com.sun.net.httpserver.HttpServer;
import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import io.natgw.core.TrafficStats;
import org.junit.jupiter.api.Test;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The UPnP HTTP server on an IPv6 LAN address (::1 here; a router's ULA, global and link-local addresses are
 * it's {@code Ipv6PinholesE2eTest}'s, in namespaces): descriptions, SOAP and GENA over IPv6 with bracketed URLs,
 * the Host header with an IPv6 literal and a zone, URL hosts as clients must read them.
 */
class IgdIpv6TransportTest {

    private static final InetAddress V6 = TestGateway.address("::1");

    private static NatgwConfig dualStack() {
        NatgwConfig c = TestGateway.config(true, 128);
        NatgwConfig.Network n = c.network();
        return new NatgwConfig(c.source(), new NatgwConfig.Network(List.of(TestGateway.LAN, V6),
                List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128")), n.lanInterfaces(), n.wanAddress(), false,
                n.wanInterface()), c.dataDir(), c.pcp(), c.upnp(), c.admin(), c.limits(), c.permissions(),
                c.staticMappings(), c.triggers(), c.dataplane());
    }

    @Test
    void descriptionsAndSoapAreServedOnTheIpv6LanAddress() throws Exception {
        try (TestGateway gw = TestGateway.start(dualStack(), 0, TrafficStats.NONE)) {
            URI v2 = gw.igd.descriptionUrl(2, V6);
            assertTrue(v2.toString().startsWith("http://[0:0:0:0:0:0:0:1]:" + v2.getPort() + "/"), v2.toString());
            RawHttp.Response d = RawHttp.get(v2, Map.of());
            assertEquals(200, d.status(), d.body());
            assertTrue(d.body().contains("urn:schemas-upnp-org:service:WANIPv6FirewallControl:1"), d.body());

            URI control = Descriptions.controlUrl(v2, "urn:schemas-upnp-org:service:WANIPConnection:2");
            assertEquals(v2.getHost(), control.getHost(), "the control URL is on the IPv6 address too");
            Soap.Result r = new Soap(control, "urn:schemas-upnp-org:service:WANIPConnection:2").call("GetStatusInfo");
            assertTrue(r.ok(), r.toString());
            assertEquals("Connected", r.out("NewConnectionStatus"));

            RawHttp.Response v1 = RawHttp.get(gw.igd.descriptionUrl(1, V6), Map.of());
            assertEquals(200, v1.status());
            assertTrue(!v1.body().contains("WANIPv6FirewallControl"), "IGD:1 stays as it was: " + v1.body());
        }
    }

    @Test
    void genaSubscribersOnIpv6GetTheFirewallsEvents() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        HttpServer subscriber = HttpServer.create(new InetSocketAddress(V6, 0), 8);
        subscriber.createContext("/cb", ex -> {
            events.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        subscriber.start();
        try (TestGateway gw = TestGateway.start(dualStack(), 0, TrafficStats.NONE)) {
            URI event = Descriptions.eventUrl(gw.igd.descriptionUrl(2, V6), IgdFirewallControlTest.FC);
            String host = "[::1]:" + event.getPort();
            RawHttp.Response refused = RawHttp.exchange(event, V6, RawHttp.request("SUBSCRIBE", event, host,
                    Map.of("CALLBACK", "<http://[::2]:" + subscriber.getAddress().getPort() + "/cb>", "NT", "upnp:event",
                            "TIMEOUT", "Second-60"), null));
            assertEquals(412, refused.status(), "a callback to another IPv6 host (CallStranger)");
            RawHttp.Response sub = RawHttp.exchange(event, V6, RawHttp.request("SUBSCRIBE", event, host,
                    Map.of("CALLBACK", "<http://[::1]:" + subscriber.getAddress().getPort() + "/cb>", "NT", "upnp:event",
                            "TIMEOUT", "Second-60"), null));
            assertEquals(200, sub.status(), sub.body());
            await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().anyMatch(
                    e -> e.contains("<FirewallEnabled>0</FirewallEnabled>") && e.contains("<InboundPinholeAllowed>0")));
        } finally {
            subscriber.stop(0);
        }
    }

    @Test
    void hostHeaderTakesIpv6LiteralsWithAZoneAndNothingElse() {
        assertEquals(List.of(true, true, true, true, false, false, false),
                List.of(RequestGuard.hostIsLiteral("[fd00:77::1]:5000"), RequestGuard.hostIsLiteral("[fe80::1%25eth0]:5000"),
                        RequestGuard.hostIsLiteral("[fe80::1%eth0]"), RequestGuard.hostIsLiteral("[fe80::1%253]:80"),
                        RequestGuard.hostIsLiteral("[fe80::1%25a/b]:80"), RequestGuard.hostIsLiteral("[example.com]:80"),
                        RequestGuard.hostIsLiteral("[fd00:77::1")));
    }

    @Test
    void urlHostsAreBracketedAndAZoneIsEscapedOrLeftOut() throws Exception {
        assertEquals("192.168.77.1", IgdServer.urlHost(TestGateway.address("192.168.77.1"), true));
        assertEquals("[fd00:77:0:0:0:0:0:1]", IgdServer.urlHost(TestGateway.address("fd00:77::1"), true));
        Inet6Address scoped = Inet6Address.getByAddress(null, TestGateway.address("fe80::1").getAddress(), 3);
        assertEquals("[fe80:0:0:0:0:0:0:1%253]", IgdServer.urlHost(scoped, true), "RFC 6874: the zone's % is escaped");
        assertEquals("[fe80:0:0:0:0:0:0:1]", IgdServer.urlHost(scoped, false),
                "a LOCATION carries no zone: the client uses its own, the one the answer arrived on");
        assertEquals("[fd00:77:0:0:0:0:0:1]:1900", IgdServer.hostPort(TestGateway.address("fd00:77::1"), 1900));
    }
}
