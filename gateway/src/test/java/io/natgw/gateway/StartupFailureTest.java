package io.natgw.gateway;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every start-up failure of the real daemon ends with exit code 2 and exactly one line on stderr that names
 * the cause: the path or the address and port, the service, and the system's reason (issue 10).
 */
class StartupFailureTest {

    @TempDir
    Path tmp;

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private DaemonProcess.Exit run(String yaml) throws Exception {
        try (DaemonProcess d = DaemonProcess.run(DaemonProcess.writeConfig(tmp, yaml))) {
            return d.awaitExit();
        }
    }

    /** Exit 2, one stderr line starting "natgw: cannot start: " that contains every expected fragment. */
    private static void assertOneLine(DaemonProcess.Exit exit, String... fragments) {
        List<String> lines = exit.errorLines();
        assertEquals(2, exit.code(), "exit code; stderr: " + exit.stderr());
        assertEquals(1, lines.size(), "exactly one line on stderr: " + exit.stderr());
        String line = lines.get(0);
        assertTrue(line.startsWith("natgw: cannot start: "), line);
        for (String f : fragments) {
            assertTrue(line.contains(f), "'" + f + "' in: " + line);
        }
        System.out.println("start-up failure: " + line);
    }

    @Test
    void aDataDirThatIsAFileIsNamed() throws Exception {
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
        assertOneLine(run(DaemonProcess.config(file, DaemonProcess.freeUdpPort(), 0, false, 0)),
                "data directory " + file, "is not a directory");
    }

    @Test
    void theUpnpHttpPortInUseIsNamed() throws Exception {
        try (ServerSocket held = new ServerSocket(0, 1, LOOPBACK)) {
            int port = held.getLocalPort();
            assertOneLine(run(DaemonProcess.config(tmp.resolve("data"), 0, port, false, 0)),
                    "UPnP HTTP", "127.0.0.1:" + port, "Address already in use");
        }
    }

    @Test
    void thePcpPortInUseIsNamed() throws Exception {
        try (DatagramSocket held = new DatagramSocket(0, LOOPBACK)) {
            int port = held.getLocalPort();
            assertOneLine(run(DaemonProcess.config(tmp.resolve("data"), port, 0, false, 0)),
                    "NAT-PMP/PCP", "127.0.0.1:" + port, "Address already in use");
        }
    }

    @Test
    void theAdminPortInUseIsNamed() throws Exception {
        try (ServerSocket held = new ServerSocket(0, 1, LOOPBACK)) {
            int port = held.getLocalPort();
            assertOneLine(run(DaemonProcess.config(tmp.resolve("data"), 0, 0, false, port)),
                    "admin API", "127.0.0.1:" + port, "Address already in use");
        }
    }

    /**
     * Port 1900 held without SO_REUSEADDR (as a plain socket or another SSDP server would). Port 1900 is shared
     * by every test on the host, so the test waits (bounded) until it can hold it itself.
     */
    @Test
    void theSsdpPortInUseIsNamed() throws Exception {
        AtomicReference<DatagramSocket> held = new AtomicReference<>();
        Awaitility.await("port 1900 free to hold").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    DatagramSocket s = new DatagramSocket(null);
                    s.setReuseAddress(false);
                    try {
                        s.bind(new InetSocketAddress(1900));
                        held.set(s);
                        return true;
                    } catch (IOException e) {
                        s.close();
                        return false;
                    }
                });
        try (DatagramSocket s = held.get()) {
            assertOneLine(run(DaemonProcess.config(tmp.resolve("data"), 0, DaemonProcess.freeTcpPort(), true, 0)),
                    "SSDP", "239.255.255.250:1900", "Address already in use");
        }
    }

    @Test
    void aDataDirWritableByOthersIsRefused() throws Exception {
        Path data = Files.createDirectory(tmp.resolve("data"));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertOneLine(run(DaemonProcess.config(data, DaemonProcess.freeUdpPort(), 0, false, 0)),
                "data directory " + data, "writable by others", "rwxrwxrwx");
    }

    @Test
    void anAdminTokenReadableByOthersIsRefused() throws Exception {
        Path data = Files.createDirectory(tmp.resolve("data"));
        Path token = Files.writeString(data.resolve("admin.token"), "secret-token-value\n");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r--r--"));
        assertOneLine(run(DaemonProcess.config(data, 0, 0, false, DaemonProcess.freeTcpPort())),
                "admin token " + token, "rw-r--r--", "chmod 600");
    }

    @Test
    void anAdminTlsKeyReadableByOthersIsRefused() throws Exception {
        Path data = Files.createDirectory(tmp.resolve("data"));
        Path key = Files.writeString(data.resolve("admin-tls.key"), "-----BEGIN PRIVATE KEY-----\n");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r-----"));
        assertOneLine(run(DaemonProcess.config(data, 0, 0, false, DaemonProcess.freeTcpPort())),
                "admin TLS key " + key, "rw-r-----", "chmod 600");
    }

    /**
     * A full disk at start: the data directory on a 64 KiB tmpfs filled to the last byte, inside a private
     * mount namespace (root and unshare needed; skipped with the reason otherwise, failed under NATGW_REQUIRE_ALL).
     */
    @Test
    void aFullDiskAtStartNamesThePath() throws Exception {
        boolean canMount = "root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/bin/unshare"));
        if (System.getenv("NATGW_REQUIRE_ALL") != null) {
            assertTrue(canMount, "NATGW_REQUIRE_ALL: this test needs root and /usr/bin/unshare");
        }
        Assumptions.assumeTrue(canMount, "needs root and /usr/bin/unshare for a tmpfs in a mount namespace");
        Path mount = Files.createDirectory(tmp.resolve("tiny"));
        Path data = mount.resolve("data");
        Path config = DaemonProcess.writeConfig(tmp, DaemonProcess.config(data, DaemonProcess.freeUdpPort(), 0, false, 0));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String script = "mount -t tmpfs -o size=64k natgw-full " + mount + " && mkdir -m 700 " + data
                + " && (dd if=/dev/zero of=" + mount + "/fill bs=4k 2>/dev/null || true)"
                + " && exec \"$0\" -XX:MaxDirectMemorySize=64m -cp \"$1\" " + Main.class.getName() + " run -c \"$2\"";
        DaemonProcess.Exit exit;
        try (DaemonProcess d = DaemonProcess.runCommand(List.of("/usr/bin/unshare", "-m", "--propagation", "private",
                "sh", "-c", script, java, System.getProperty("java.class.path"), config.toString()))) {
            exit = d.awaitExit();
        }
        assertOneLine(exit, data.toString(), "No space left on device");
    }
}
