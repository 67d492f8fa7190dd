package io.natgw.gateway;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On a router (LAN 192.168.77.1 in a network namespace of its own, WAN 203.0.113.1), requests whose source is
 * one of the gateway's own addresses are dropped by NAT-PMP/PCP and UPnP (issue 10): a NAT-PMP request spoofed
 * from the gateway's LAN address gets no answer and creates no mapping, while a LAN host is served.
 */
class OwnAddressSpoofTest {

    @TempDir
    Path tmp;

    private final String ns = "natgw-own-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100_000;
    private boolean created;
    private DaemonProcess daemon;

    private static String sh(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes(); // read while it runs; it ends when the process does
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("hung: " + cmd);
        }
        String text = new String(out, StandardCharsets.UTF_8).trim();
        if (p.exitValue() != 0) {
            throw new AssertionError(cmd + " exited " + p.exitValue() + ": " + text);
        }
        return text;
    }

    private List<String> inNs(String... cmd) {
        List<String> out = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        out.addAll(List.of(cmd));
        return out;
    }

    @BeforeEach
    void namespace() throws Exception {
        boolean can = "root".equals(System.getProperty("user.name"))
                && (Files.isExecutable(Path.of("/usr/sbin/ip")) || Files.isExecutable(Path.of("/sbin/ip")));
        if (System.getenv("NATGW_REQUIRE_ALL") != null) {
            assertTrue(can, "NATGW_REQUIRE_ALL: this test needs root and ip(8) for a network namespace");
        }
        Assumptions.assumeTrue(can, "needs root and ip(8) for a network namespace");
        sh(List.of("ip", "netns", "add", ns));
        created = true;
        sh(List.of("ip", "-n", ns, "link", "set", "lo", "up"));
        sh(List.of("ip", "-n", ns, "link", "add", "lan0", "type", "veth", "peer", "name", "lan1"));
        sh(List.of("ip", "-n", ns, "link", "set", "lan1", "up"));
        sh(List.of("ip", "-n", ns, "addr", "add", "192.168.77.1/24", "dev", "lan0"));
        sh(List.of("ip", "-n", ns, "addr", "add", "192.168.77.2/24", "dev", "lan0"));
        sh(List.of("ip", "-n", ns, "link", "set", "lan0", "up"));
        sh(List.of("ip", "-n", ns, "link", "add", "wan0", "type", "veth", "peer", "name", "wan1"));
        sh(List.of("ip", "-n", ns, "link", "set", "wan1", "up"));
        sh(List.of("ip", "-n", ns, "addr", "add", "203.0.113.1/24", "dev", "wan0"));
        sh(List.of("ip", "-n", ns, "link", "set", "wan0", "up"));
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        if (created) {
            sh(List.of("ip", "netns", "delete", ns));
        }
    }

    private String client(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns,
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
                SpoofClient.class.getName()));
        cmd.addAll(List.of(args));
        return sh(cmd);
    }

    @Test
    void requestsFromTheGatewaysOwnAddressesAreDropped() throws Exception {
        String yaml = "network:\n  lan:\n    addresses: [192.168.77.1]\n    clients: [192.168.77.0/24]\n    interfaces: [lan0]\n"
                + "  wan:\n    address: 203.0.113.1\n    interface: wan0\n"
                + "dataDir: " + tmp.resolve("data") + "\n"
                + "pcp:\n  enabled: true\n  port: 5351\n  announce: false\n"
                + "upnp:\n  enabled: true\n  httpPort: 5000\n  ssdp: false\n"
                + "admin:\n  enabled: false\n"
                + "triggers: []\n"
                + "dataplane:\n  enabled: false\n";
        Path config = DaemonProcess.writeConfig(tmp, yaml);
        daemon = DaemonProcess.runCommand(inNs(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:MaxDirectMemorySize=64m", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "run", "-c", config.toString()));
        Awaitility.await("natgw started").atMost(Duration.ofSeconds(60)).until(() -> daemon.stdoutSoFar().contains("natgw started"));

        assertEquals("no reply", client("natpmp", "192.168.77.1", "192.168.77.1", "7101", "2000"), "spoofed from the LAN address");
        assertEquals("reply 0", client("natpmp", "192.168.77.1", "192.168.77.2", "7102"), "a LAN host");
        assertEquals("closed", client("http", "192.168.77.1:5000", "192.168.77.1"), "UPnP from the LAN address");
        assertEquals("status 404", client("http", "192.168.77.1:5000", "192.168.77.2"), "UPnP from a LAN host");

        String log = daemon.stdoutSoFar();
        assertTrue(log.contains("-> 192.168.77.2:7102"), "the LAN host's mapping was made: " + log);
        assertFalse(log.contains(":7101 "), "no mapping for the spoofed request: " + log);
    }
}
