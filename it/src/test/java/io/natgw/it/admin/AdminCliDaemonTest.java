package io.natgw.it.admin;

import io.natgw.it.support.Daemon;
import io.natgw.it.support.NatPmpProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code natgw} admin commands against the real daemon (a child process), as an admin or uninstaller runs them. */
class AdminCliDaemonTest {

    static Daemon daemon;
    static InetAddress lan;

    @BeforeAll
    static void start() throws Exception {
        lan = InetAddress.getByName("127.0.0." + ThreadLocalRandom.current().nextInt(100, 250));
        daemon = Daemon.builder().set("network.lan.addresses", List.of(lan.getHostAddress())).set("upnp.enabled", false)
                .set("admin.port", freePort()).start();
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    static NatgwCli.Result natgw(String... args) throws Exception {
        return NatgwCli.run(daemon.configFile(), args);
    }

    @Test
    void unmapByDescriptionRemovesExactlyTheMatchingMappings() throws Exception {
        for (String[] m : List.of(new String[]{"tcp", "31001", "Game"}, new String[]{"udp", "31001", "Game"},
                new String[]{"tcp", "31002", "Game 2"}, new String[]{"tcp", "31003", "game"})) {
            NatgwCli.Result r = natgw("map", "add", m[0], m[1], "127.0.0.60", "--description", m[2]);
            assertEquals(0, r.exit(), r.err());
        }
        NatgwCli.Result unmap = NatgwCli.process(daemon.configFile(), "unmap", "--description", "Game"); // as an uninstaller runs it
        assertEquals(0, unmap.exit(), unmap.err());
        assertTrue(unmap.out().endsWith("removed 2 mappings" + System.lineSeparator()), unmap.out());
        NatgwCli.Result leases = natgw("leases", "--json");
        var left = new com.fasterxml.jackson.databind.ObjectMapper().readTree(leases.out()).path("mappings");
        List<String> ids = new java.util.ArrayList<>();
        left.forEach(n -> ids.add(n.path("id").asText() + " " + n.path("description").asText()));
        assertEquals(List.of("tcp/31002 Game 2", "tcp/31003 game"), ids);
        natgw("unmap", "--description", "Game 2");
        natgw("unmap", "--description", "game");
    }

    @Test
    void unmapByOwnerRemovesWhatAClientMappedOverNatPmp() throws Exception {
        InetAddress app = InetAddress.getByName("127.0.0.61");
        for (int port : new int[]{32001, 32002}) {
            NatPmpProbe.Reply r = NatPmpProbe.request(app, lan, NatPmpProbe.mapTcp(port, port, 3600));
            assertEquals(0, r.result(), r.toString());
        }
        natgw("map", "add", "tcp", "32003", "127.0.0.61");
        NatgwCli.Result unmap = natgw("unmap", "--owner", "127.0.0.61");
        assertEquals(0, unmap.exit(), unmap.err());
        assertTrue(unmap.out().endsWith("removed 2 mappings" + System.lineSeparator()), unmap.out() + unmap.err());
        assertTrue(natgw("leases").out().contains("127.0.1.1:32003"), "the admin's static mapping to that host stays");
        natgw("map", "delete", "tcp", "32003");
    }

    @Test
    void statusTriggersAndClearErrors() throws Exception {
        NatgwCli.Result status = natgw("status");
        assertEquals(0, status.exit(), status.err());
        assertTrue(status.out().contains("external address  127.0.1.1"), status.out());
        assertTrue(natgw("triggers", "list").out().contains("IRC IDENT"));
        NatgwCli.Result add = natgw("triggers", "add", "--from", "IRC IDENT", "--name", "IRC IDENT 2", "--trigger-ports", "6600",
                "--incoming-ports", "114");
        assertEquals(0, add.exit(), add.err());
        assertEquals(0, natgw("triggers", "disable", "IRC IDENT 2").exit());
        assertEquals(0, natgw("triggers", "delete", "IRC IDENT 2").exit());
        NatgwCli.Result bad = natgw("map", "add", "tcp", "70000", "127.0.0.60");
        assertEquals("1 natgw add: 'externalPort' 70000 is out of range (field: externalPort; accepted: an integer 1-65535)",
                bad.exit() + " " + bad.err().trim());

        var tokenFile = daemon.dataDir().resolve("admin.token");
        String token = Files.readString(tokenFile);
        try {
            Files.writeString(tokenFile, "forged\n");
            NatgwCli.Result forged = natgw("leases");
            assertEquals(4, forged.exit(), forged.err());
        } finally {
            Files.writeString(tokenFile, token);
        }
        NatgwCli.Result elsewhere = NatgwCli.run(writeConfigWithPort(freePort()), "leases");
        assertEquals(3, elsewhere.exit(), elsewhere.err());
        assertTrue(elsewhere.err().contains("natgw is not running: nothing answers at https://127.0.0.1:"), elsewhere.err());
    }

    /** The daemon's configuration with another admin port: nothing listens there. */
    private static java.nio.file.Path writeConfigWithPort(int port) throws IOException {
        String yaml = Files.readString(daemon.configFile()).replaceAll("(?m)^(\\s+port: )\\d+$", "$1" + port);
        java.nio.file.Path f = daemon.workDir().resolve("elsewhere.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
