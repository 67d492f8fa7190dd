package io.natgw.gateway.cli;

import io.natgw.conf.ConfigLoader;
import io.natgw.conf.NatgwConfig;
import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.Forwarder;
import io.natgw.core.InMemoryLeaseStore;
import io.natgw.core.Kind;
import io.natgw.core.MappingRequest;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import io.natgw.core.RecordingForwarder;
import io.natgw.core.RemoteFilter;
import io.natgw.gateway.admin.AdminHooks;
import io.natgw.gateway.admin.AdminServer;
import org.junit.jupiter.api.AfterEach;
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
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code natgw map}, {@code unmap}, {@code leases} and {@code status} with IPv6 pinholes (issue 14 point 5), through
 * picocli against a real admin server and table. The happy path uses a table whose forwarder says it forwards
 * pinholes (the kernel forwarder's answer); the refusal path the forwarder of a daemon without kernel forwarding.
 */
class PinholeCommandsTest {

    static final String HOST = "fd00:77::10";

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

    void start(Forwarder forwarder) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        configFile = dir.resolve("natgw.yaml");
        Files.writeString(configFile, "dataDir: " + dir.resolve("data") + "\nadmin:\n  port: " + port + "\n"
                + "network:\n  lan:\n    clients: [127.0.0.0/24, \"fd00:77::/64\"]\n");
        NatgwConfig config = ConfigLoader.load(configFile);
        table = new MappingTable(config, new InMemoryLeaseStore(), forwarder, Clock.systemUTC());
        server = new AdminServer(config, table, AdminHooks.none());
        table.start();
        server.start();
    }

    static RecordingForwarder forwardingPinholes() {
        RecordingForwarder f = new RecordingForwarder();
        f.pinholes = true;
        return f;
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
            table.close();
        }
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
        return new Run(cl.execute(withConfig), out.toString(), err.toString());
    }

    @Test
    void mapOpensAPinholeLeasesShowsItsFamilyAndMapDeleteClosesIt() throws Exception {
        start(forwardingPinholes());
        assertEquals(0, natgw("map", "add", "tcp", "8080", "127.0.0.5:80", "--description", "web").exit());
        Run add = natgw("map", "add", "tcp", "8080", "[" + HOST + "]:8080", "--description", "web6");
        assertEquals(0, add.exit(), add.err());
        int id = table.view().pinholes().get(0).pinholeId();
        assertEquals("opened pinhole " + id + " tcp to [" + HOST + "]:8080 'web6' (static)", add.out().trim());

        Run leases = natgw("leases");
        assertEquals(0, leases.exit(), leases.err());
        List<String> lines = leases.out().lines().toList();
        assertTrue(lines.get(0).startsWith("FAMILY  PROTO  EXTERNAL"), lines.get(0));
        assertTrue(lines.get(1).startsWith("ipv4    tcp    127.0.1.1:8080 "), lines.get(1));
        assertTrue(lines.get(2).matches("ipv6 +tcp +\\[fd00:77::10]:8080 #" + id + " +\\[fd00:77::10]:8080 +\\* +static +admin .*web6"),
                lines.get(2));
        assertEquals("2 mappings (1 IPv6 pinhole, EXTERNAL is the host itself, #id)", lines.get(3));
        assertTrue(natgw("status").out().contains("mappings          2 (1 of them IPv6 pinholes)"));

        Run del = natgw("map", "delete", "tcp", "8080", "--host", HOST);
        assertEquals("0 closed pinhole " + id + " tcp to [" + HOST + "]:8080", del.exit() + " " + del.out().trim(), del.err());
        assertTrue(table.view().pinholes().isEmpty());
        assertEquals(1, table.view().size(), "the NAT mapping on the same port stays");
        Run again = natgw("map", "delete", "tcp", "8080", "--host", "[" + HOST + "]");
        assertEquals(1, again.exit(), "nothing left to close: " + again.out());
        Run v4host = natgw("map", "delete", "tcp", "8080", "--host", "127.0.0.5");
        assertEquals(1, v4host.exit());
        assertTrue(v4host.err().contains("field: host"), v4host.err());
        assertEquals(1, table.view().size());
    }

    @Test
    void unmapByAnIpv6OwnerClosesThatClientsPinholes() throws Exception {
        start(forwardingPinholes());
        InetAddress host = InetAddress.getByName(HOST);
        InetAddress other = InetAddress.getByName("fd00:77::11");
        for (InetAddress h : List.of(host, other)) {
            Outcome o = table.apply(new MappingRequest.Map(Owner.of(h, Origin.PCP), Protocol.UDP, new Endpoint(h, 5000), 0,
                    RemoteFilter.ANY, Duration.ofHours(1), Kind.DYNAMIC, "game", "nonce", MappingRequest.OnConflict.FAIL, true, false));
            assertInstanceOf(Outcome.Granted.class, o, String.valueOf(o));
        }
        Run r = natgw("unmap", "--owner", HOST);
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("closed pinhole "), r.out());
        assertTrue(r.out().endsWith("removed 1 mapping" + System.lineSeparator()), r.out());
        assertEquals(List.of(other), table.view().pinholes().stream().map(m -> m.internal().address()).toList());
    }

    @Test
    void withoutKernelForwardingMapRefusesAPinholeWithExitOneAndAddsNothing() throws Exception {
        start(Forwarder.NONE);
        Run r = natgw("map", "add", "tcp", "8080", "[" + HOST + "]:8080");
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.err().contains("pinholes_disabled") && r.err().contains("linux-gateway")
                && r.err().contains("field: internalAddress"), r.err());
        assertEquals("", r.out());
        assertEquals(0, table.view().size());
        assertTrue(natgw("leases").out().contains("0 mappings"));
    }
}
