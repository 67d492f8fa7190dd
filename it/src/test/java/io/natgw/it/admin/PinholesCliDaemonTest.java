package io.natgw.it.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.natgw.it.support.Daemon;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.InetAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code natgw map} with an IPv6 internal address against the real daemon in its default userspace mode (issue 14
 * point 5): the Netty relays forward no pinholes, so the pinhole is refused — a clear error naming linux-gateway
 * mode, exit code 1, nothing added, one log line — while the lease table keeps its FAMILY column and NAT mappings
 * work as before. (The happy path needs kernel forwarding of pinholes; see the report.)
 */
class PinholesCliDaemonTest {

    static Daemon daemon;

    @BeforeAll
    static void start() throws Exception {
        InetAddress lan = InetAddress.getByName("127.0.0." + java.util.concurrent.ThreadLocalRandom.current().nextInt(100, 250));
        daemon = Daemon.builder().set("network.lan.addresses", List.of(lan.getHostAddress()))
                .set("network.lan.clients", List.of("127.0.0.0/24", "fd00:77::/64"))
                .set("upnp.enabled", false).set("admin.port", freePort()).start();
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void aPinholeIsRefusedWithExitOneAndNothingAddedWhileNatMappingsWork() throws Exception {
        assertTrue(daemon.log().contains("dataplane started: ") && !daemon.log().contains("kernel forwarding (nftables)"),
                "the userspace relays ran:\n" + daemon.logTail());
        NatgwCli.Result nat = NatgwCli.run(daemon.configFile(), "map", "add", "tcp", "33001", "127.0.0.70:80");
        assertEquals(0, nat.exit(), nat.err());

        // as an admin runs it: the launcher's own process and exit code
        NatgwCli.Result refused = NatgwCli.process(daemon.configFile(), "map", "add", "tcp", "33002", "[fd00:77::10]:33002");
        assertEquals(1, refused.exit(), refused.out() + refused.err());
        assertTrue(refused.err().contains("pinholes_disabled") && refused.err().contains("linux-gateway")
                && refused.err().contains("field: internalAddress"), refused.err());

        JsonNode rows = new ObjectMapper().readTree(NatgwCli.run(daemon.configFile(), "leases", "--json").out()).path("mappings");
        List<String> shown = new java.util.ArrayList<>();
        rows.forEach(m -> shown.add(m.path("family").asText() + " " + m.path("id").asText()));
        assertEquals(List.of("ipv4 tcp/33001"), shown, "the refused pinhole added nothing");
        NatgwCli.Result leases = NatgwCli.run(daemon.configFile(), "leases");
        assertTrue(leases.out().startsWith("FAMILY  PROTO"), leases.out());

        NatgwCli.Result close = NatgwCli.run(daemon.configFile(), "map", "delete", "tcp", "33002", "--host", "fd00:77::10");
        assertEquals(1, close.exit(), "no such pinhole: " + close.out());
        assertTrue(daemon.log().contains("refusing IPv6 pinholes"), daemon.logTail());
        assertEquals(0, NatgwCli.run(daemon.configFile(), "map", "delete", "tcp", "33001").exit());
    }
}
