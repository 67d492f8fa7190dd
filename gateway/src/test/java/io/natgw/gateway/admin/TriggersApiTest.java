package io.natgw.gateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.natgw.conf.TriggerRule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Trigger rules over HTTPS: validated like the config file, persisted, applied at once, kept over a restart. */
class TriggersApiTest {

    @TempDir
    Path dataDir;

    static final String DCC = "{\"name\":\"DCC\",\"triggerProtocol\":\"tcp\",\"triggerPorts\":\"7001-7010\","
            + "\"incomingProtocol\":\"both\",\"incomingPorts\":\"1024-1030,2000\",\"timeout\":120}";

    @Test
    void listsAddsChangesDisablesAndDeletesRules() throws Exception {
        try (AdminFixture f = new AdminFixture(dataDir, false)) {
            assertEquals(List.of("IRC IDENT"), names(f.triggers.rules()), "the configuration's rules are in force at start");
            JsonNode list = f.call("GET", "/api/v1/triggers", null).json().path("triggers");
            assertEquals("1 IRC IDENT tcp 6660-7000 tcp 113 300 true", row(list.get(0)));

            AdminFixture.Reply added = f.call("POST", "/api/v1/triggers", DCC);
            assertEquals(201, added.status(), added.text());
            assertEquals("2 DCC tcp 7001-7010 both 1024-1030,2000 120 true", row(added.json()));
            assertEquals(List.of("IRC IDENT", "DCC"), names(f.triggers.rules()), "applied at once");
            assertTrue(Files.readString(dataDir.resolve("triggers.json")).contains("\"DCC\""));

            AdminFixture.Reply changed = f.call("PUT", "/api/v1/triggers/DCC", "{\"incomingPorts\":\"3000\"}");
            assertEquals("2 DCC tcp 7001-7010 both 3000 120 true", row(changed.json()), changed.text());

            assertEquals("1 IRC IDENT tcp 6660-7000 tcp 113 300 false",
                    row(f.call("POST", "/api/v1/triggers/1/disable", null).json()));
            assertFalse(f.triggers.rules().get(0).enabled(), "disabling is applied at once");
            assertEquals("1 IRC IDENT tcp 6660-7000 tcp 113 300 true",
                    row(f.call("POST", "/api/v1/triggers/irc%20ident/enable", null).json()));

            assertEquals(200, f.call("DELETE", "/api/v1/triggers/1", null).status());
            assertEquals(List.of("DCC"), names(f.triggers.rules()));
            assertEquals(404, f.call("GET", "/api/v1/triggers/IRC%20IDENT", null).status());
            assertEquals("1 DCC tcp 7001-7010 both 3000 120 true", row(f.call("GET", "/api/v1/triggers/1", null).json()));
        }
        try (AdminFixture again = new AdminFixture(dataDir, false)) {
            assertEquals(List.of("DCC"), names(again.triggers.rules()), "saved rules override the configuration's after a restart");
        }
    }

    @Test
    void theSavedSetTakesPrecedenceOverTheFileSaysSoAndResetReturnsToTheFile() throws Exception {
        try (AdminFixture f = new AdminFixture(dataDir, false)) {
            JsonNode before = f.call("GET", "/api/v1/triggers", null).json();
            assertEquals("config config", before.path("source").asText() + " " + before.path("triggers").get(0).path("source").asText());
            assertEquals(201, f.call("POST", "/api/v1/triggers", DCC).status());
            JsonNode after = f.call("GET", "/api/v1/triggers", null).json();
            assertEquals("api IRC IDENT=config DCC=api", after.path("source").asText() + " " + sources(after));

            // a reload with other file rules: the saved set stays in force, and the file's rules are what it compares to
            TriggerRule ftp = io.natgw.conf.ConfigLoader.parseTriggerRule(java.util.Map.of("name", "FTP", "triggerProtocol", "tcp",
                    "triggerPorts", "21", "incomingProtocol", "tcp", "incomingPorts", "20", "timeout", 60));
            assertTrue(f.server.reloadTriggers(List.of(ftp)).contains("stay in force"));
            assertEquals(List.of("IRC IDENT", "DCC"), names(f.triggers.rules()));
            assertEquals("api IRC IDENT=api DCC=api", f.call("GET", "/api/v1/triggers", null).json().path("source").asText()
                    + " " + sources(f.call("GET", "/api/v1/triggers", null).json()));

            AdminFixture.Reply reset = f.call("POST", "/api/v1/triggers/reset", null);
            assertEquals(200, reset.status(), reset.text());
            assertEquals("config FTP=config", reset.json().path("source").asText() + " " + sources(reset.json()));
            assertEquals(List.of("FTP"), names(f.triggers.rules()), "the file's rules applied to the engine");
            assertFalse(Files.exists(dataDir.resolve("triggers.json")), "the saved set is gone");
            assertTrue(f.server.reloadTriggers(List.of()).contains("0 from the configuration file applied"));
            assertEquals(List.of(), names(f.triggers.rules()), "with no saved set, a reload applies the file's rules");
        }
    }

    private static String sources(JsonNode listing) {
        List<String> out = new ArrayList<>();
        listing.path("triggers").forEach(t -> out.add(t.path("name").asText() + "=" + t.path("source").asText()));
        return String.join(" ", out);
    }

    @Test
    void badRulesAreRefusedLikeTheConfigFileAndNothingChanges() throws Exception {
        try (AdminFixture f = new AdminFixture(dataDir, false)) {
            record Case(String body, int status, String field) {
            }
            List<Case> cases = List.of(
                    new Case(DCC.replace("7001-7010", "123-456-789"), 400, "triggerPorts"),
                    new Case(DCC.replace("7001-7010", "70000"), 400, "triggerPorts"),
                    new Case(DCC.replace("\"both\"", "\"icmp\""), 400, "incomingProtocol"),
                    new Case(DCC.replace("120}", "0}"), 400, "timeout"),
                    new Case(DCC.replace("}", ",\"comment\":\"x\"}"), 400, "comment"),
                    new Case(DCC.replace("\"name\":\"DCC\",", ""), 400, "name"),
                    new Case("{\"name\":", 400, null),
                    new Case(DCC.replace("7001-7010", "6667"), 409, null),
                    new Case(DCC.replace("DCC", "irc ident"), 409, null));
            List<String> expected = new ArrayList<>();
            List<String> seen = new ArrayList<>();
            for (Case c : cases) {
                AdminFixture.Reply r = f.call("POST", "/api/v1/triggers", c.body());
                expected.add(c.body() + " " + c.status() + " " + c.field());
                seen.add(c.body() + " " + r.status() + " " + r.field());
                assertFalse(r.error().isEmpty());
            }
            assertEquals(expected, seen);
            assertEquals(List.of("IRC IDENT"), names(f.triggers.rules()), "nothing applied");
            assertFalse(Files.exists(dataDir.resolve("triggers.json")), "nothing saved");
            assertEquals(400, f.call("PUT", "/api/v1/triggers/1", "{\"triggerPorts\":\"5-3\"}").status());
            assertEquals(404, f.call("POST", "/api/v1/triggers/9/enable", null).status());
        }
    }

    @Test
    void servesThePredefinedServices() throws Exception {
        try (AdminFixture f = new AdminFixture(dataDir, false)) {
            JsonNode p = f.call("GET", "/api/v1/triggers/predefined", null).json().path("predefined");
            List<String> names = new ArrayList<>();
            p.forEach(n -> names.add(n.path("name").asText()));
            assertTrue(names.contains("IRC IDENT"), names.toString());
        }
    }

    private static String row(JsonNode t) {
        return String.join(" ", t.path("index").asText(), t.path("name").asText(), t.path("triggerProtocol").asText(),
                t.path("triggerPorts").asText(), t.path("incomingProtocol").asText(), t.path("incomingPorts").asText(),
                t.path("timeout").asText(), t.path("enabled").asText());
    }

    private static List<String> names(List<TriggerRule> rules) {
        return rules.stream().map(TriggerRule::name).toList();
    }
}
