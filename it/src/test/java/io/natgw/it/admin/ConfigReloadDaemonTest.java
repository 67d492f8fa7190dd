package io.natgw.it.admin;

import io.natgw.it.support.NatPmpProbe;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.natgw.it.support.Daemon;
import io.natgw.testsupport.Command;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reload without restart against the real daemon: {@code natgw reload} (the admin API's {@code POST /api/v1/reload})
 * and SIGHUP re-read the file, validate it first, and apply static mappings and permission rules without touching
 * any other lease (same external ports, same expiry) or restarting a listener.
 */
class ConfigReloadDaemonTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();

    Daemon daemon;
    InetAddress lan;
    /** A copy of the daemon's first file for the CLI's own use (its dataDir and admin port), whatever the test writes. */
    Path cliConfig;

    @BeforeEach
    void start() throws Exception {
        lan = InetAddress.getByName("127.0.0." + ThreadLocalRandom.current().nextInt(100, 250));
        daemon = Daemon.builder().set("network.lan.addresses", List.of(lan.getHostAddress())).set("upnp.enabled", false)
                .set("admin.port", freePort()).set("staticMappings", List.of(web(33001, 80), web(33002, 81))).start();
        cliConfig = Files.copy(daemon.configFile(), daemon.workDir().resolve("cli.yaml"));
    }

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    static Map<String, Object> web(int externalPort, int internalPort) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("protocol", "tcp");
        m.put("externalPort", externalPort);
        m.put("internalAddress", "127.0.0.70");
        m.put("internalPort", internalPort);
        m.put("description", "web " + externalPort);
        return m;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Leases by id ("tcp/34001") with their expiry and internal endpoint: what "untouched" compares. */
    private Map<String, String> leases() throws Exception {
        NatgwCli.Result r = NatgwCli.run(cliConfig, "leases", "--json");
        assertEquals(0, r.exit(), r.err());
        Map<String, String> out = new TreeMap<>();
        for (JsonNode m : JSON.readTree(r.out()).path("mappings")) {
            out.put(m.path("id").asText(), m.path("internalAddress").asText() + ":" + m.path("internalPort").asText() + " "
                    + m.path("origin").asText() + " " + m.path("expiresAt").asText());
        }
        return out;
    }

    private void mapNatPmp(String client, int port) throws IOException {
        NatPmpProbe.Reply r = NatPmpProbe.request(InetAddress.getByName(client), lan, NatPmpProbe.mapTcp(port, port, 3600));
        assertEquals("0 " + port, r.result() + " " + r.externalPort(), r.toString());
    }

    @SuppressWarnings("unchecked")
    private void rewrite(Map<String, Object> changes) throws IOException {
        Map<String, Object> cfg = YAML.readValue(daemon.configFile().toFile(), LinkedHashMap.class);
        cfg.putAll(changes);
        YAML.writeValue(daemon.configFile().toFile(), cfg);
    }

    /** Static 33002 removed, 33003 added; ports 35000-35999 now denied to clients. */
    private void rewriteTighter() throws IOException {
        rewrite(Map.of("staticMappings", List.of(web(33001, 80), web(33003, 82)),
                "permissions", List.of("deny 35000-35999 0.0.0.0/0 0-65535", "allow 1024-65535 0.0.0.0/0 1024-65535",
                        "deny 0-65535 0.0.0.0/0 0-65535")));
    }

    private Map<String, String> mapClientsAndExpect(Map<String, String> before) {
        Map<String, String> expected = new TreeMap<>(before);
        expected.remove("tcp/33002");
        expected.remove("tcp/35001");
        return expected;
    }

    @Test
    void reloadAddsAndRemovesStaticMappingsAndTightensRulesLeavingOtherLeasesUntouched() throws Exception {
        mapNatPmp("127.0.0.71", 34001);
        mapNatPmp("127.0.0.72", 34002);
        mapNatPmp("127.0.0.72", 35001);
        Map<String, String> before = leases();
        assertEquals(List.of("tcp/33001", "tcp/33002", "tcp/34001", "tcp/34002", "tcp/35001"), List.copyOf(before.keySet()));

        rewriteTighter();
        NatgwCli.Result r = NatgwCli.process(daemon.configFile(), "reload"); // the real CLI, as an admin runs it
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("leases removed because the rules in force refuse them: 1"), r.out());

        Map<String, String> after = leases();
        Map<String, String> expected = mapClientsAndExpect(before);
        expected.put("tcp/33003", after.get("tcp/33003"));
        assertEquals(expected, after, "34001 and 34002 keep their ports and expiry; 33002 and 35001 are gone");
        assertTrue(after.get("tcp/33003").startsWith("127.0.0.70:82 config"), after.toString());
        assertTrue(daemon.log().contains("permission rules deny external port 35001"), daemon.logTail());
        assertEquals(1, count(daemon.log(), "natgw started"), "no restart");
        NatPmpProbe.Reply refused = NatPmpProbe.request(InetAddress.getByName("127.0.0.72"), lan, NatPmpProbe.mapTcp(35002, 35002, 3600));
        assertTrue(refused.externalPort() != 35002, "the tightened rule holds for new requests: " + refused);
    }

    @Test
    void anInvalidFileChangesNothingAndIsReportedWithLineAndColumn() throws Exception {
        mapNatPmp("127.0.0.71", 34001);
        Map<String, String> before = leases();
        rewriteTighter();
        writeInvalid(); // the tighter rules in a file with one bad value: none of it may apply

        String where = java.util.regex.Pattern.quote(daemon.configFile().toString()) + ":\\d+:\\d+: limits.perClientQuota: 'many'";

        // natgw reload -c FILE reads FILE itself first (to find the daemon): an invalid one is reported at once
        NatgwCli.Result local = NatgwCli.process(daemon.configFile(), "reload");
        assertEquals(1, local.exit(), local.out() + local.err());
        assertTrue(local.err().matches("(?s).*" + where + ".*"), local.err());

        // the daemon reads its own file: invalid, so nothing changes; the API says why (422), the CLI exits 1
        NatgwCli.Result r = NatgwCli.process(cliConfig, "reload");
        assertEquals(1, r.exit(), r.out() + r.err());
        assertTrue(r.err().matches("(?s).*nothing changed.*" + where + ".*"), r.err());
        assertEquals(before, leases());
        assertTrue(daemon.log().matches("(?s).*configuration not reloaded, nothing changed.*" + where + ".*"), daemon.logTail());
    }

    /** The file as it is but for one bad value: limits.perClientQuota: many. */
    private String writeInvalid() throws IOException {
        String good = Files.readString(daemon.configFile());
        String bad = good.replaceFirst("(?m)^(\\s+perClientQuota:).*$", "$1 many");
        assertTrue(!bad.equals(good), good);
        Files.writeString(daemon.configFile(), bad);
        return good;
    }

    @Test
    void sighupDoesWhatNatgwReloadDoes() throws Exception {
        mapNatPmp("127.0.0.71", 34001);
        mapNatPmp("127.0.0.72", 34002);
        mapNatPmp("127.0.0.72", 35001);
        Map<String, String> before = leases();

        String good = writeInvalid();
        assertEquals(0, Command.run(Duration.ofSeconds(30), null, false, List.of("kill", "-HUP", Long.toString(daemon.pid()))).exit());
        Awaitility.await("the invalid file reported").atMost(Duration.ofSeconds(60))
                .until(() -> daemon.log().contains("configuration not reloaded, nothing changed"));
        assertTrue(daemon.alive(), "SIGHUP does not stop the daemon");
        assertEquals(before, leases());

        Files.writeString(daemon.configFile(), good);
        rewriteTighter();
        assertEquals(0, Command.run(Duration.ofSeconds(30), null, false, List.of("kill", "-HUP", Long.toString(daemon.pid()))).exit());
        Awaitility.await("the reload applied").atMost(Duration.ofSeconds(60))
                .until(() -> daemon.log().contains("configuration reloaded from"));
        assertTrue(daemon.alive());
        Map<String, String> after = leases();
        Map<String, String> expected = mapClientsAndExpect(before);
        expected.put("tcp/33003", after.get("tcp/33003"));
        assertEquals(expected, after);
        assertEquals(1, count(daemon.log(), "natgw started"), "no restart");
    }

    @Test
    void afterARestartTheFileWinsOverTheJournalForStaticMappingsAndRules() throws Exception {
        mapNatPmp("127.0.0.71", 34001);
        mapNatPmp("127.0.0.72", 35001);
        Map<String, String> before = leases();
        daemon.close();
        rewriteTighter(); // edited while the daemon was down: no reload, only the next start sees it
        daemon.restart();
        Map<String, String> after = leases();
        Map<String, String> expected = mapClientsAndExpect(before);
        expected.put("tcp/33003", after.get("tcp/33003"));
        assertEquals(expected, after, "33002 (no longer in the file) and 35001 (now denied) are gone; 34001 is as it was");
        assertTrue(daemon.log().contains("no longer in " + daemon.configFile()), daemon.logTail());
        assertTrue(daemon.log().contains("permission rules deny external port 35001"), daemon.logTail());
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
