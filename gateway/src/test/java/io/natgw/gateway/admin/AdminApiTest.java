package io.natgw.gateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.Kind;
import io.natgw.core.MappingKey;
import io.natgw.core.MappingRequest;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import io.natgw.core.MappingTable;
import io.natgw.core.RemoteFilter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The mapping endpoints, status and auth over real HTTPS against a real table. */
class AdminApiTest {

    @TempDir
    Path dataDir;
    AdminFixture f;

    @BeforeEach
    void start() throws Exception {
        f = new AdminFixture(dataDir, false);
    }

    @AfterEach
    void stop() throws Exception {
        f.close();
    }

    static final String STATIC_WEB = "{\"protocol\":\"tcp\",\"externalPort\":8080,\"internalAddress\":\"127.0.0.5\","
            + "\"internalPort\":80,\"description\":\"web\"}";

    @Test
    void everyApiEndpointNeedsTheToken() throws Exception {
        List<String[]> endpoints = List.of(new String[]{"GET", "/api/v1/mappings"}, new String[]{"POST", "/api/v1/mappings"},
                new String[]{"DELETE", "/api/v1/mappings?description=x"}, new String[]{"GET", "/api/v1/mappings/tcp/8080"},
                new String[]{"DELETE", "/api/v1/mappings/tcp/8080"}, new String[]{"GET", "/api/v1/triggers"},
                new String[]{"POST", "/api/v1/triggers"}, new String[]{"GET", "/api/v1/triggers/predefined"},
                new String[]{"PUT", "/api/v1/triggers/1"}, new String[]{"DELETE", "/api/v1/triggers/1"},
                new String[]{"POST", "/api/v1/triggers/1/disable"}, new String[]{"GET", "/api/v1/status"},
                new String[]{"GET", "/api/v1/events"}, new String[]{"GET", "/metrics"});
        List<String> seen = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (String[] e : endpoints) {
            String body = e[0].equals("POST") || e[0].equals("PUT") ? STATIC_WEB : null;
            AdminFixture.Reply none = f.call(e[0], e[1], body, null);
            AdminFixture.Reply wrong = f.call(e[0], e[1], body, "not-the-token");
            seen.add(e[0] + " " + e[1] + " " + none.status() + " " + none.field() + " " + wrong.status());
            expected.add(e[0] + " " + e[1] + " 401 Authorization 403");
        }
        assertEquals(expected, seen);
        assertEquals(0, f.table.view().size(), "nothing was applied without the token");
        assertEquals(1, f.call("GET", "/api/v1/triggers", null).json().path("triggers").size(), "no trigger rule was deleted");
    }

    @Test
    void createsListsGetsAndDeletesAStaticMapping() throws Exception {
        AdminFixture.Reply created = f.call("POST", "/api/v1/mappings", STATIC_WEB);
        assertEquals(201, created.status(), created.text());
        JsonNode m = created.json();
        assertEquals("tcp/8080 127.0.1.1:8080 127.0.0.5:80 static admin 127.0.0.1 web true * null",
                String.join(" ", m.path("id").asText(), m.path("external").asText(), m.path("internal").asText(),
                        m.path("kind").asText(), m.path("origin").asText(), m.path("owner").asText(),
                        m.path("description").asText(), m.path("enabled").asText(), m.path("remote").asText(),
                        m.path("remainingSeconds").toString()));
        assertEquals(Kind.STATIC, f.table.view().find(MappingKey.of(Protocol.TCP, 8080)).orElseThrow().kind());

        JsonNode list = f.call("GET", "/api/v1/mappings", null).json();
        assertEquals(1, list.path("count").asInt());
        assertEquals("tcp/8080", list.path("mappings").get(0).path("id").asText());
        assertEquals(0, list.path("mappings").get(0).path("traffic").path("bytesReceived").asLong());

        assertEquals("127.0.0.5:80", f.call("GET", "/api/v1/mappings/tcp/8080", null).json().path("internal").asText());
        AdminFixture.Reply missing = f.call("GET", "/api/v1/mappings/udp/8080", null);
        assertEquals(404, missing.status());

        AdminFixture.Reply deleted = f.call("DELETE", "/api/v1/mappings/tcp/8080", null);
        assertEquals(200, deleted.status(), deleted.text());
        assertEquals(1, deleted.json().path("count").asInt());
        assertEquals(0, f.table.view().size());
        assertEquals(404, f.call("DELETE", "/api/v1/mappings/tcp/8080", null).status());
    }

    @Test
    void listsEveryKindAndOriginWithRemainingLifetime() throws Exception {
        InetAddress host = InetAddress.getByName("127.0.0.7");
        Outcome o = f.table.apply(MappingRequest.Map.dynamic(Owner.of(host, Origin.NATPMP), Protocol.UDP,
                new Endpoint(host, 5000), 5000, Duration.ofSeconds(3600)));
        assertInstanceOf(Outcome.Granted.class, o);
        f.clock.advance(Duration.ofSeconds(100));
        JsonNode row = f.call("GET", "/api/v1/mappings?protocol=udp", null).json().path("mappings").get(0);
        assertEquals("udp dynamic nat-pmp 127.0.0.7 3500", String.join(" ", row.path("protocol").asText(),
                row.path("kind").asText(), row.path("origin").asText(), row.path("owner").asText(),
                row.path("remainingSeconds").asText()));
        assertEquals(0, f.call("GET", "/api/v1/mappings?kind=static", null).json().path("count").asInt());
        assertEquals("kind", f.call("GET", "/api/v1/mappings?kind=weird", null).field());
    }

    @Test
    void badInputIsRefusedNamingTheFieldAndNothingIsApplied() throws Exception {
        record Case(String body, int status, String field, String accepted) {
        }
        List<Case> cases = List.of(
                new Case("{\"protocol\":\"tcp\",", 400, null, "a JSON object"),
                new Case("[1,2]", 400, null, null),
                new Case("{\"protocol\":\"tcp\",\"externalPort\":8080,\"internalAddress\":\"127.0.0.5\",\"colour\":\"red\"}", 400,
                        "colour", "fields description, enabled, externalPort, internalAddress, internalPort, protocol, remoteHost"),
                new Case("{\"protocol\":\"tcp\",\"externalPort\":70000,\"internalAddress\":\"127.0.0.5\"}", 400, "externalPort", "an integer 1-65535"),
                new Case("{\"protocol\":\"tcp\",\"externalPort\":0,\"internalAddress\":\"127.0.0.5\"}", 400, "externalPort", "an integer 1-65535"),
                new Case("{\"protocol\":\"tcp\",\"externalPort\":8080,\"internalAddress\":\"127.0.0.5\",\"internalPort\":-1}", 400,
                        "internalPort", "an integer 1-65535"),
                new Case("{\"protocol\":\"tcp\",\"externalPort\":\"8080\",\"internalAddress\":\"127.0.0.5\"}", 400, "externalPort", "an integer 1-65535"),
                new Case("{\"protocol\":\"sctp\",\"externalPort\":8080,\"internalAddress\":\"127.0.0.5\"}", 400, "protocol", "tcp, udp"),
                new Case("{\"protocol\":\"tcp\",\"externalPort\":8080,\"internalAddress\":\"router.lan\"}", 400, "internalAddress", null),
                new Case("{\"protocol\":\"tcp\",\"externalPort\":8080}", 400, "internalAddress", null),
                new Case("{\"protocol\":\"tcp\",\"externalPort\":8080,\"internalAddress\":\"127.0.0.5\",\"enabled\":\"yes\"}", 400,
                        "enabled", "true or false"),
                new Case("{\"protocol\":\"tcp\",\"protocol\":\"udp\",\"externalPort\":8080,\"internalAddress\":\"127.0.0.5\"}", 400, null, "a JSON object"));
        List<String> expected = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        for (Case c : cases) {
            AdminFixture.Reply r = f.call("POST", "/api/v1/mappings", c.body());
            expected.add(c.body() + " -> " + c.status() + " " + c.field() + (c.accepted() == null ? "" : " " + c.accepted()));
            seen.add(c.body() + " -> " + r.status() + " " + r.field()
                    + (c.accepted() == null ? "" : " " + r.json().path("accepted").asText()));
            assertTrue(!r.error().isEmpty(), "an error message for " + c.body());
        }
        assertEquals(expected, seen);
        assertEquals(0, f.table.view().size(), "nothing half-applied");
        assertEquals(400, f.call("GET", "/api/v1/mappings/tcp/99999", null).status());
        assertEquals("protocol", f.call("GET", "/api/v1/mappings/icmp/80", null).field());
        assertEquals(405, f.call("PUT", "/api/v1/mappings", STATIC_WEB).status());
        assertEquals(404, f.call("GET", "/api/v1/nothing", null).status());
    }

    @Test
    void aPortHeldByAClientIsAConflictNotATakeover() throws Exception {
        InetAddress host = InetAddress.getByName("127.0.0.9");
        f.table.apply(MappingRequest.Map.dynamic(Owner.of(host, Origin.UPNP), Protocol.TCP, new Endpoint(host, 8080), 8080,
                Duration.ofSeconds(600)));
        AdminFixture.Reply r = f.call("POST", "/api/v1/mappings", STATIC_WEB);
        assertEquals("409 externalPort", r.status() + " " + r.field(), r.text());
        assertEquals("127.0.0.9", f.table.view().find(MappingKey.of(Protocol.TCP, 8080)).orElseThrow().owner().address().getHostAddress());
    }

    @Test
    void uninstallersDeleteByDescriptionOrOwnerExactly() throws Exception {
        InetAddress a = InetAddress.getByName("127.0.0.21");
        InetAddress b = InetAddress.getByName("127.0.0.22");
        map(a, Origin.NATPMP, 3001, "game-server");
        map(a, Origin.UPNP, 3002, "game-server");
        map(b, Origin.UPNP, 3003, "game-server-2");
        map(b, Origin.PCP, 3004, "");
        AdminFixture.Reply r = f.call("DELETE", "/api/v1/mappings?description=game-server", null);
        assertEquals(200, r.status(), r.text());
        assertEquals(List.of(3001, 3002), ports(r.json().path("mappings")));
        assertEquals(List.of(3003, 3004), f.table.view().mappings().stream().map(m -> m.externalPort()).toList());

        r = f.call("DELETE", "/api/v1/mappings?owner=127.0.0.22", null);
        assertEquals(List.of(3003, 3004), ports(r.json().path("mappings")));
        assertEquals(0, f.table.view().size());

        assertEquals(0, f.call("DELETE", "/api/v1/mappings?description=nobody", null).json().path("count").asInt());
        assertEquals("400 description", status(f.call("DELETE", "/api/v1/mappings", null)));
        assertEquals("400 description", status(f.call("DELETE", "/api/v1/mappings?description=", null)));
        assertEquals("400 owner", status(f.call("DELETE", "/api/v1/mappings?owner=nobody.lan", null)));
        assertEquals("400 color", status(f.call("DELETE", "/api/v1/mappings?color=red", null)));
    }

    @Test
    void unmapByOwnerDeletesOnlyWhatTheClientMadeItself() throws Exception {
        InetAddress client = InetAddress.getByName("127.0.0.1"); // the admin's own address and the config's owner too
        assertEquals(201, f.call("POST", "/api/v1/mappings", STATIC_WEB.replace("127.0.0.5", "127.0.0.1")).status());
        f.table.apply(new MappingRequest.Map(MappingTable.CONFIG_OWNER, Protocol.UDP, new Endpoint(client, 53), 5353,
                RemoteFilter.ANY, Duration.ZERO, Kind.STATIC, "dns", "", MappingRequest.OnConflict.FAIL, true, false));
        f.table.apply(new MappingRequest.Map(Owner.of(client, Origin.ADMIN), Protocol.TCP, new Endpoint(client, 22), 2222,
                RemoteFilter.ANY, Duration.ofSeconds(600), Kind.DYNAMIC, "ssh", "", MappingRequest.OnConflict.FAIL, true, false));
        map(client, Origin.UPNP, 3001, "app");
        map(client, Origin.NATPMP, 3002, "");
        map(client, Origin.PCP, 3003, "");
        AdminFixture.Reply r = f.call("DELETE", "/api/v1/mappings?owner=127.0.0.1", null);
        assertEquals(200, r.status(), r.text());
        assertEquals(List.of(3001, 3002, 3003), ports(r.json().path("mappings")));
        assertEquals(List.of(2222, 5353, 8080), f.table.view().mappings().stream().map(m -> m.externalPort()).sorted().toList());
    }

    @Test
    void statusShowsAddressEpochUptimeCountsAndListeners() throws Exception {
        f.call("POST", "/api/v1/mappings", STATIC_WEB);
        InetAddress host = InetAddress.getByName("127.0.0.7");
        map(host, Origin.PCP, 4000, "");
        f.clock.advance(Duration.ofSeconds(42));
        JsonNode s = f.call("GET", "/api/v1/status", null).json();
        assertEquals("127.0.1.1 42 42 2 1 1 0", String.join(" ", s.path("externalAddress").asText(),
                s.path("uptimeSeconds").asText(), s.path("epochSeconds").asText(), s.path("mappings").asText(),
                s.path("counts").path("tcp").path("static").asText(), s.path("counts").path("tcp").path("dynamic").asText(),
                s.path("counts").path("udp").path("dynamic").asText()));
        assertEquals("admin https tcp " + f.base.substring("https://".length()),
                s.path("listeners").get(0).path("name").asText() + " " + s.path("listeners").get(0).path("transport").asText()
                        + " " + s.path("listeners").get(0).path("address").asText());
    }

    @Test
    void requestBodiesAreBounded() throws Exception {
        String huge = "{\"description\":\"" + "x".repeat(AdminServer.MAX_BODY) + "\"}";
        assertEquals(413, f.call("POST", "/api/v1/mappings", huge).status());
        String longDescription = STATIC_WEB.replace("\"web\"", "\"" + "d".repeat(300) + "\"");
        assertEquals("400 description", status(f.call("POST", "/api/v1/mappings", longDescription)));
    }

    private void map(InetAddress host, Origin origin, int port, String description) {
        Outcome o = f.table.apply(MappingRequest.Map.dynamic(Owner.of(host, origin), Protocol.TCP, new Endpoint(host, port), port,
                Duration.ofSeconds(600)).withDescription(description));
        assertInstanceOf(Outcome.Granted.class, o, o.toString());
    }

    private static List<Integer> ports(JsonNode rows) {
        List<Integer> out = new ArrayList<>();
        rows.forEach(r -> out.add(r.path("externalPort").asInt()));
        return out;
    }

    private static String status(AdminFixture.Reply r) {
        return r.status() + " " + r.field();
    }
}
