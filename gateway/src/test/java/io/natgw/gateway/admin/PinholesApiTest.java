package io.natgw.gateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.Kind;
import io.natgw.core.MappingRequest;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import io.natgw.core.RecordingForwarder;
import io.natgw.core.RemoteFilter;
import io.natgw.core.Forwarder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPv6 pinholes in the admin API (issue 14 point 5): listed with their family and id beside the NAT mappings,
 * created and deleted by admins, counted in the status and {@code /metrics}; and refused, with nothing added, when
 * the dataplane forwards no pinholes. The table here has a recording forwarder that says it forwards pinholes (the
 * kernel forwarder's answer); the daemon's refusal is tested end to end in {@code it} (AdminCliDaemonTest).
 */
class PinholesApiTest {

    static final String HOST = "fd00:77::10";

    @TempDir
    Path dir;

    private static AdminFixture withPinholes(Path dir) throws Exception {
        RecordingForwarder f = new RecordingForwarder();
        f.pinholes = true;
        return new AdminFixture(dir, f);
    }

    @Test
    void anAdminOpensListsAndClosesAPinholeBesideTheNatMappings() throws Exception {
        try (AdminFixture fx = withPinholes(dir)) {
            assertEquals(201, fx.call("POST", "/api/v1/mappings",
                    "{\"protocol\":\"tcp\",\"externalPort\":9000,\"internalAddress\":\"127.0.0.1\"}").status());
            AdminFixture.Reply made = fx.call("POST", "/api/v1/mappings",
                    "{\"protocol\":\"tcp\",\"internalAddress\":\"" + HOST + "\",\"internalPort\":8080,\"description\":\"web6\"}");
            assertEquals(201, made.status(), made.text());
            JsonNode p = made.json();
            int id = p.path("pinholeId").asInt();
            assertTrue(id >= 1 && id <= 65535, p.toString());
            assertEquals(List.of("ipv6", "tcp/8080?host=" + HOST, "[" + HOST + "]:8080", "[" + HOST + "]:8080", "8080"),
                    List.of(p.path("family").asText(), p.path("id").asText(), p.path("external").asText(),
                            p.path("internal").asText(), p.path("externalPort").asText()), p.toString());
            assertEquals(id, fx.table.view().pinhole(id).orElseThrow().pinholeId());

            JsonNode all = fx.call("GET", "/api/v1/mappings", null).json();
            assertEquals(List.of("ipv4", "ipv6"), all.path("mappings").findValuesAsText("family"), all.toString());
            assertTrue(all.path("mappings").get(0).path("pinholeId").isNull(), "a NAT mapping has no pinhole id");
            JsonNode v6 = fx.call("GET", "/api/v1/mappings?family=ipv6", null).json();
            assertEquals(List.of("tcp/8080?host=" + HOST), v6.path("mappings").findValuesAsText("id"));
            JsonNode v4 = fx.call("GET", "/api/v1/mappings?family=ipv4", null).json();
            assertEquals(List.of("tcp/9000"), v4.path("mappings").findValuesAsText("id"));
            assertEquals(400, fx.call("GET", "/api/v1/mappings?family=ipv5", null).status());
            assertEquals(HOST, fx.call("GET", "/api/v1/mappings/tcp/8080?host=" + HOST, null).json().path("internalAddress").asText());
            assertEquals(404, fx.call("GET", "/api/v1/mappings/tcp/8080", null).status(), "no NAT mapping on 8080");

            JsonNode status = fx.call("GET", "/api/v1/status", null).json();
            assertEquals(List.of(2, 1, 1), List.of(status.path("mappings").asInt(), status.path("pinholes").asInt(),
                    status.path("counts").path("tcp").path("static").asInt()), status.toString());
            String metrics = fx.call("GET", "/metrics", null).text();
            assertTrue(metrics.contains("natgw_pinholes{kind=\"static\",protocol=\"tcp\"} 1.0"), metrics);
            assertTrue(metrics.contains("natgw_mappings{kind=\"static\",protocol=\"tcp\"} 1.0"), metrics);

            AdminFixture.Reply deleted = fx.call("DELETE", "/api/v1/mappings/tcp/8080?host=" + HOST, null);
            assertEquals(200, deleted.status(), deleted.text());
            assertEquals(List.of(id), deleted.json().path("mappings").findValues("pinholeId").stream().map(JsonNode::asInt).toList());
            assertTrue(fx.table.view().pinholes().isEmpty());
            assertEquals(1, fx.table.view().size(), "the NAT mapping stays");
            assertTrue(fx.call("GET", "/metrics", null).text().contains("natgw_pinholes{kind=\"static\",protocol=\"tcp\"} 0.0"));
        }
    }

    @Test
    void aClientsPinholesGoWithUnmapByOwnerAndTheApiNamesBadPinholeInput() throws Exception {
        try (AdminFixture fx = withPinholes(dir)) {
            InetAddress host = InetAddress.getByName(HOST);
            Outcome o = fx.table.apply(new MappingRequest.Map(Owner.of(host, Origin.PCP), Protocol.UDP, new Endpoint(host, 5000), 0,
                    RemoteFilter.ANY, Duration.ofHours(1), Kind.DYNAMIC, "game", "nonce", MappingRequest.OnConflict.FAIL, true, false));
            assertInstanceOf(Outcome.Granted.class, o, String.valueOf(o));

            // externalPort, when given, must be the internal port: a pinhole translates nothing
            AdminFixture.Reply mismatch = fx.call("POST", "/api/v1/mappings",
                    "{\"protocol\":\"tcp\",\"externalPort\":80,\"internalAddress\":\"" + HOST + "\",\"internalPort\":8080}");
            assertEquals(List.of(400, "externalPort"), List.of(mismatch.status(), mismatch.field()), mismatch.text());
            AdminFixture.Reply linkLocal = fx.call("POST", "/api/v1/mappings",
                    "{\"protocol\":\"tcp\",\"externalPort\":8080,\"internalAddress\":\"fe80::1\"}");
            assertEquals(List.of(400, "internalAddress"), List.of(linkLocal.status(), linkLocal.field()), linkLocal.text());
            AdminFixture.Reply v4host = fx.call("GET", "/api/v1/mappings/udp/5000?host=192.168.77.10", null);
            assertEquals(List.of(400, "host"), List.of(v4host.status(), v4host.field()), v4host.text());
            assertEquals(1, fx.table.view().size(), "refused requests added nothing");

            AdminFixture.Reply unmap = fx.call("DELETE", "/api/v1/mappings?owner=" + HOST, null);
            assertEquals(200, unmap.status(), unmap.text());
            assertEquals(List.of("ipv6"), unmap.json().path("mappings").findValuesAsText("family"));
            assertTrue(fx.table.view().pinholes().isEmpty());
        }
    }

    @Test
    void addressesAreShownInRfc5952Form() throws Exception {
        for (String[] c : new String[][]{{"fd00:77:0:0:0:0:0:10", "fd00:77::10"}, {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
                {"2001:0db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, {"0:0:0:0:0:0:0:1", "::1"}, {"0:0:0:0:0:0:0:0", "::"},
                {"1:0:0:0:0:0:0:0", "1::"}, {"2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::"}, {"FD00:77:0:0:0:0:0:A", "fd00:77::a"},
                {"192.168.77.10", "192.168.77.10"}}) {
            assertEquals(c[1], Routes.text(InetAddress.getByName(c[0])), c[0]);
        }
        assertEquals("[fd00:77::10]:80", Routes.endpoint(InetAddress.getByName(HOST), 80));
    }

    @Test
    void withoutAForwarderOfPinholesTheRequestIsRefusedWith409AndNothingIsAdded() throws Exception {
        try (AdminFixture fx = new AdminFixture(dir, Forwarder.NONE)) {
            AdminFixture.Reply r = fx.call("POST", "/api/v1/mappings",
                    "{\"protocol\":\"tcp\",\"externalPort\":8080,\"internalAddress\":\"" + HOST + "\"}");
            assertEquals(List.of(409, "internalAddress"), List.of(r.status(), r.field()), r.text());
            assertTrue(r.error().startsWith("pinholes_disabled: ") && r.error().contains("linux-gateway"), r.error());
            assertTrue(r.json().path("accepted").asText().contains("dataplane.forwarding kernel"), r.text());
            assertEquals(0, fx.table.view().size());
            assertTrue(fx.call("GET", "/metrics", null).text().contains("natgw_refusals_total{origin=\"admin\",reason=\"pinholes_disabled\"} 1.0"));
        }
    }
}
