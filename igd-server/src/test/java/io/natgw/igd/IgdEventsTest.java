package io.natgw.igd;

import com.sun.net.httpserver.HttpServer;
import io.natgw.core.MappingRequest;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GENA on WANIPConnection: subscribe (only with a callback to the subscriber itself), the initial event,
 * events when the number of entries and the external address change (sent by Netty's stream client),
 * renewal and unsubscribe.
 */
class IgdEventsTest {

    private static TestGateway gw;
    private static HttpServer subscriber;
    private static final List<String> events = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        gw = TestGateway.start();
        subscriber = HttpServer.create(new InetSocketAddress(TestGateway.LAN, 0), 8);
        subscriber.createContext("/cb", ex -> {
            events.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        subscriber.start();
    }

    @AfterAll
    static void stop() throws Exception {
        subscriber.stop(0);
        gw.close();
    }

    private static RawHttp.Response subscribe(URI event, String callback) throws Exception {
        return RawHttp.exchange(event, null, RawHttp.request("SUBSCRIBE", event, "127.0.0.1:" + event.getPort(),
                Map.of("CALLBACK", callback, "NT", "upnp:event", "TIMEOUT", "Second-300"), null));
    }

    @Test
    void eventsFollowTheTable() throws Exception {
        URI event = Descriptions.eventUrl(gw.description(2), "urn:schemas-upnp-org:service:WANIPConnection:2");
        String cb = "<http://127.0.0.1:" + subscriber.getAddress().getPort() + "/cb>";
        RawHttp.Response sub = subscribe(event, cb);
        assertEquals(200, sub.status());
        String sid = sub.headers().get("sid");
        assertNotNull(sid);
        await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().anyMatch(
                e -> e.contains("<PortMappingNumberOfEntries>0</PortMappingNumberOfEntries>") && e.contains("ConnectionStatus")));

        Soap.Result add = gw.soap(2).call("AddPortMapping", "NewRemoteHost", "", "NewExternalPort", "9200", "NewProtocol", "TCP",
                "NewInternalPort", "9200", "NewInternalClient", "127.0.0.1", "NewEnabled", "1",
                "NewPortMappingDescription", "ev", "NewLeaseDuration", "60");
        assertEquals(0, add.errorCode(), add.body());
        await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().anyMatch(
                e -> e.contains("<PortMappingNumberOfEntries>1</PortMappingNumberOfEntries>")));

        Outcome o = gw.table.apply(new MappingRequest.SetExternalAddress(
                Owner.of(TestGateway.LAN, Origin.ADMIN), TestGateway.address("127.0.1.2")));
        assertInstanceOf(Outcome.Done.class, o);
        await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().anyMatch(
                e -> e.contains("<ExternalIPAddress>127.0.1.2</ExternalIPAddress>")));

        RawHttp.Response renew = RawHttp.exchange(event, null, RawHttp.request("SUBSCRIBE", event,
                "127.0.0.1:" + event.getPort(), Map.of("SID", sid, "TIMEOUT", "Second-300"), null));
        assertEquals(200, renew.status());
        RawHttp.Response unsub = RawHttp.exchange(event, null, RawHttp.request("UNSUBSCRIBE", event,
                "127.0.0.1:" + event.getPort(), Map.of("SID", sid), null));
        assertEquals(200, unsub.status());
        gw.soap(2).call("DeletePortMapping", "NewRemoteHost", "", "NewExternalPort", "9200", "NewProtocol", "TCP");
    }

    @Test
    void aLinkGoingDownAndUpIsEvented() throws Exception {
        TestLink link = TestLink.up();
        try (TestGateway own = TestGateway.start(TestGateway.config(true, 16), 0, link)) {
            String cb = "<http://127.0.0.1:" + subscriber.getAddress().getPort() + "/cb>";
            for (String service : List.of("WANCommonInterfaceConfig:1", "WANIPConnection:1")) {
                URI event = Descriptions.eventUrl(own.description(1), "urn:schemas-upnp-org:service:" + service);
                assertEquals(200, subscribe(event, cb).status(), service);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().anyMatch(
                    e -> e.contains("<PhysicalLinkStatus>Up</PhysicalLinkStatus>")));
            link.set(new io.natgw.core.WanLink.Reading("wan0", io.natgw.core.WanLink.State.DOWN, 0, 0, 0, 0, -1, -1, "down"));
            await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().anyMatch(
                    e -> e.contains("<PhysicalLinkStatus>Down</PhysicalLinkStatus>")));
            await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().anyMatch(
                    e -> e.contains("<ConnectionStatus>Disconnected</ConnectionStatus>")));
        }
    }

    @Test
    void callbacksToAnotherHostAreRefused() throws Exception {
        URI event = Descriptions.eventUrl(gw.description(1), "urn:schemas-upnp-org:service:WANIPConnection:1");
        int port = subscriber.getAddress().getPort();
        for (String cb : List.of("<http://127.0.0.9:" + port + "/cb>", "<http://victim.example/cb>",
                "<http://127.0.0.1:" + port + "/cb><http://10.0.0.1/x>", "http://127.0.0.1/no-brackets", "<ftp://127.0.0.1/cb>")) {
            assertEquals(412, subscribe(event, cb).status(), cb);
        }
        assertTrue(RequestGuard.callbackAllowed("<http://127.0.0.1:1/a>", TestGateway.LAN));
    }
}
