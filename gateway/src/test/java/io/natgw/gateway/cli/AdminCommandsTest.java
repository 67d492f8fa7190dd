package io.natgw.gateway.cli;

import io.natgw.conf.ConfigLoader;
import io.natgw.conf.NatgwConfig;
import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.Forwarder;
import io.natgw.core.InMemoryLeaseStore;
import io.natgw.core.MappingRequest;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Owner;
import io.natgw.gateway.admin.AdminHooks;
import io.natgw.gateway.admin.AdminServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The admin commands against a running admin server (real table, real HTTPS), through picocli as users type them. */
class AdminCommandsTest {

    @TempDir
    Path dir;
    Path configFile;
    MappingTable table;
    AdminServer server;

    @CommandLine.Command(name = "natgw")
    static final class Root {
    }

    record Run(int exit, String out, String err) {
    }

    @BeforeEach
    void start() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        configFile = dir.resolve("natgw.yaml");
        Files.writeString(configFile, "dataDir: " + dir.resolve("data") + "\nadmin:\n  port: " + port + "\n"
                + "triggers:\n  - {name: IRC IDENT, triggerProtocol: tcp, triggerPorts: 6660-7000, incomingProtocol: tcp,"
                + " incomingPorts: 113, timeout: 300}\n");
        NatgwConfig config = ConfigLoader.load(configFile);
        table = new MappingTable(config, new InMemoryLeaseStore(), Forwarder.NONE, Clock.systemUTC());
        server = new AdminServer(config, table, AdminHooks.none());
        table.start();
        server.start();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        table.close();
    }

    Run natgw(String... args) {
        CommandLine cl = new CommandLine(new Root());
        AdminCommands.register(cl);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        String[] withConfig = new String[args.length + 2];
        System.arraycopy(args, 0, withConfig, 0, args.length);
        withConfig[args.length] = "-c";
        withConfig[args.length + 1] = configFile.toString();
        int exit = cl.execute(withConfig);
        return new Run(exit, out.toString(), err.toString());
    }

    private void client(String address, Origin origin, int port, String description) throws Exception {
        InetAddress a = InetAddress.getByName(address);
        table.apply(MappingRequest.Map.dynamic(Owner.of(a, origin), Protocol.TCP, new Endpoint(a, port), port, Duration.ofSeconds(900))
                .withDescription(description));
    }

    @Test
    void unmapByDescriptionRemovesExactlyTheMatchingMappings() throws Exception {
        client("127.0.0.40", Origin.UPNP, 4001, "Torrent Client");
        client("127.0.0.41", Origin.NATPMP, 4002, "Torrent Client");
        client("127.0.0.41", Origin.PCP, 4003, "Torrent Client (web)");
        client("127.0.0.42", Origin.UPNP, 4004, "torrent client");
        Run r = natgw("unmap", "--description", "Torrent Client");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().endsWith("removed 2 mappings" + System.lineSeparator()), r.out());
        assertEquals(List.of(4003, 4004), table.view().mappings().stream().map(m -> m.externalPort()).toList());
        Run again = natgw("unmap", "--description", "Torrent Client");
        assertEquals("0 removed 0 mappings", again.exit() + " " + again.out().trim(), "idempotent for uninstallers");
    }

    @Test
    void unmapByOwner() throws Exception {
        client("127.0.0.40", Origin.UPNP, 4001, "a");
        client("127.0.0.41", Origin.NATPMP, 4002, "b");
        client("127.0.0.41", Origin.PCP, 4003, "c");
        Run r = natgw("unmap", "--owner", "127.0.0.41");
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of(4001), table.view().mappings().stream().map(m -> m.externalPort()).toList());
        assertEquals(2, natgw("unmap").exit(), "one of --description and --owner is required");
        assertEquals(2, natgw("unmap", "--owner", "1.2.3.4", "--description", "x").exit(), "not both");
        Run bad = natgw("unmap", "--owner", "printer.lan");
        assertEquals(1, bad.exit());
        assertTrue(bad.err().contains("field: owner"), bad.err());
    }

    @Test
    void mapAddLeasesAndMapDelete() throws Exception {
        Run add = natgw("map", "add", "tcp", "8080", "127.0.0.5:80", "--description", "web server");
        assertEquals("0 mapped tcp 127.0.1.1:8080 -> 127.0.0.5:80 'web server' (static)", add.exit() + " " + add.out().trim(), add.err());
        Run leases = natgw("leases");
        List<String> lines = leases.out().lines().toList();
        assertEquals("FAMILY  PROTO  EXTERNAL        INTERNAL      REMOTE  KIND    ORIGIN  OWNER      LEFT   ENABLED  RX  TX  DESCRIPTION",
                lines.get(0));
        assertEquals("ipv4    tcp    127.0.1.1:8080  127.0.0.5:80  *       static  admin   127.0.0.1  never  yes      0   0   web server",
                lines.get(1));
        assertEquals("1 mapping", lines.get(2));
        assertTrue(natgw("leases", "--json").out().contains("\"description\" : \"web server\""));

        Run bad = natgw("map", "add", "tcp", "70000", "127.0.0.5");
        assertEquals(1, bad.exit());
        assertTrue(bad.err().contains("(field: externalPort; accepted: an integer 1-65535)"), bad.err());
        assertEquals(1, natgw("map", "add", "tcp", "8081", "nas.lan:80").exit());
        assertEquals(2, natgw("map", "add", "tcp", "port", "127.0.0.5").exit(), "picocli: not a number");

        Run del = natgw("map", "delete", "tcp", "8080");
        assertEquals("0 deleted tcp 127.0.1.1:8080 -> 127.0.0.5:80", del.exit() + " " + del.out().trim());
        Run gone = natgw("map", "delete", "tcp", "8080");
        assertEquals(1, gone.exit());
        assertEquals(0, table.view().size());
    }

    @Test
    void aRequestTheTableRefusesIsNotReportedAsARefusedToken() throws Exception {
        Run outside = natgw("map", "add", "tcp", "8080", "10.9.9.9:80");
        assertEquals(1, outside.exit(), outside.err());
        assertTrue(outside.err().contains("10.9.9.9"), "the table's reason, naming the address: " + outside.err());
        assertTrue(!outside.err().contains("token"), outside.err());
        assertEquals(0, table.view().size(), "nothing mapped");
    }

    @Test
    void mapAddOverAnExistingMappingSaysWhatItReplaced() throws Exception {
        assertEquals(0, natgw("map", "add", "tcp", "8080", "127.0.0.5:80", "--description", "web").exit());
        Run again = natgw("map", "add", "tcp", "8080", "127.0.0.2:80");
        assertEquals(0, again.exit(), again.err());
        // only what the command gives: no --description, so the new mapping has none
        assertEquals(List.of("replaced tcp 127.0.1.1:8080 -> 127.0.0.5:80 'web' (static)",
                "mapped tcp 127.0.1.1:8080 -> 127.0.0.2:80 (static)"), again.out().lines().toList());
        assertEquals("", table.view().mappings().get(0).description());
        Run described = natgw("map", "add", "tcp", "8080", "127.0.0.3:80", "--description", "nas");
        assertEquals(List.of("replaced tcp 127.0.1.1:8080 -> 127.0.0.2:80 (static)",
                "mapped tcp 127.0.1.1:8080 -> 127.0.0.3:80 'nas' (static)"), described.out().lines().toList());
        Run fresh = natgw("map", "add", "tcp", "8082", "127.0.0.3:80");
        assertEquals(List.of("mapped tcp 127.0.1.1:8082 -> 127.0.0.3:80 (static)"), fresh.out().lines().toList());
    }

    @Test
    void triggersListAddDisableEnableDelete() {
        assertTrue(natgw("triggers", "list").out().contains("IRC IDENT"));
        Run add = natgw("triggers", "add", "--name", "Game", "--trigger-protocol", "udp", "--trigger-ports", "27015",
                "--incoming-protocol", "both", "--incoming-ports", "27000-27010,27020", "--timeout", "60");
        assertEquals("0 added #2 'Game' udp 27015 -> both 27000-27010,27020 for 60 s", add.exit() + " " + add.out().trim(), add.err());
        Run overlap = natgw("triggers", "add", "--name", "Again", "--trigger-ports", "6667", "--incoming-ports", "114");
        assertEquals(1, overlap.exit());
        assertTrue(overlap.err().contains("IRC IDENT"), overlap.err() + overlap.out());
        Run badRange = natgw("triggers", "add", "--name", "Bad", "--trigger-ports", "123-456-789", "--incoming-ports", "1");
        assertEquals(1, badRange.exit());
        assertTrue(badRange.err().contains("field: triggerPorts"), badRange.err());
        assertEquals(0, natgw("triggers", "disable", "Game").exit());
        assertTrue(natgw("triggers", "list").out().lines().anyMatch(l -> l.startsWith("2  Game") && l.matches(".* disabled +api")));
        assertEquals(0, natgw("triggers", "enable", "2").exit());
        Run del = natgw("triggers", "delete", "IRC IDENT");
        assertEquals("0 deleted #1 'IRC IDENT' tcp 6660-7000 -> tcp 113 for 300 s", del.exit() + " " + del.out().trim());
        List<String> left = natgw("triggers", "list").out().lines().toList();
        assertEquals(3, left.size(), left.toString());
        assertTrue(left.get(1).startsWith("1  Game"), left.toString());
        assertTrue(left.get(2).startsWith("rules in force: the set saved through the admin API"), left.toString());
    }

    @Test
    void statusTokenAndUi() throws Exception {
        Run status = natgw("status");
        assertEquals(0, status.exit(), status.err());
        assertTrue(status.out().startsWith("external address  127.0.1.1"), status.out());
        String token = Files.readString(dir.resolve("data/admin.token")).trim();
        assertEquals(token, natgw("token").out().trim());
        assertEquals(server.url() + "#token=" + token, natgw("ui").out().trim());
    }

    @Test
    void clearErrorsWhenTheTokenIsWrongOrTheDaemonIsDown() throws Exception {
        Path tokenFile = dir.resolve("data/admin.token");
        String token = Files.readString(tokenFile);
        Files.writeString(tokenFile, "forged\n");
        Run wrong = natgw("leases");
        assertEquals(4, wrong.exit());
        assertTrue(wrong.err().contains("refused the token in " + tokenFile + " (403)"), wrong.err());
        Files.writeString(tokenFile, token);
        server.close();
        Run down = natgw("leases");
        assertEquals(3, down.exit());
        assertTrue(down.err().startsWith("natgw leases: natgw is not running: nothing answers at https://127.0.0.1:"), down.err());
        Files.delete(tokenFile);
        Run noToken = natgw("token");
        assertEquals(4, noToken.exit());
        assertTrue(noToken.err().contains("start the daemon once"), noToken.err());
    }
}
