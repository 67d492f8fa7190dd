package io.natgw.gateway;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The real daemon ({@code natgw run}, i.e. {@link Main}) in a child JVM on this test's classpath, with a
 * configuration file written for the test. Output is read while the process runs; the process is stopped by
 * its PID if it outlives the test.
 */
final class DaemonProcess implements AutoCloseable {

    /** How a run ended: exit code and both streams. */
    record Exit(int code, String stdout, String stderr) {
        /** The non-blank lines of stderr. */
        List<String> errorLines() {
            List<String> out = new ArrayList<>();
            for (String l : stderr.split("\n")) {
                if (!l.isBlank()) {
                    out.add(l);
                }
            }
            return out;
        }
    }

    final Process process;
    private final CompletableFuture<String> stdout;
    private final CompletableFuture<String> stderr;
    private final StringBuffer stdoutSoFar = new StringBuffer();

    private DaemonProcess(Process process) {
        this.process = process;
        this.stdout = drain(process.getInputStream(), stdoutSoFar);
        this.stderr = drain(process.getErrorStream(), new StringBuffer());
    }

    /** What the daemon has printed to stdout until now (its log). */
    String stdoutSoFar() {
        return stdoutSoFar.toString();
    }

    /** Starts {@code natgw run -c config}, optionally behind a command prefix (e.g. unshare …). */
    static DaemonProcess run(Path config, List<String> prefix) throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-XX:MaxDirectMemorySize=64m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(List.of("run", "-c", config.toString()));
        return new DaemonProcess(new ProcessBuilder(cmd).start());
    }

    /** Any command line (it must end up running the daemon). */
    static DaemonProcess runCommand(List<String> command) throws IOException {
        return new DaemonProcess(new ProcessBuilder(command).start());
    }

    static DaemonProcess run(Path config) throws IOException {
        return run(config, List.of());
    }

    /** Waits for the exit (a generous ceiling that only catches a daemon that did not stop). */
    Exit awaitExit() throws Exception {
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            throw new AssertionError("natgw did not exit within 120 s; stdout so far: " + stdout.getNow("?"));
        }
        return new Exit(process.exitValue(), stdout.get(10, TimeUnit.SECONDS), stderr.get(10, TimeUnit.SECONDS));
    }

    private static CompletableFuture<String> drain(InputStream in, StringBuffer soFar) {
        CompletableFuture<String> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    out.write(buf, 0, n);
                    soFar.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
                done.complete(out.toString(StandardCharsets.UTF_8));
            } catch (IOException e) {
                done.completeExceptionally(new UncheckedIOException(e));
            }
        }, "natgw-test-drain");
        t.setDaemon(true);
        t.start();
        return done;
    }

    /**
     * A loopback sandbox configuration: LAN 127.0.0.1, WAN 127.0.1.1, every port given (0 = off where a
     * service allows it), dataplane off, SSDP as asked.
     */
    static String config(Path dataDir, int pcpPort, int upnpPort, boolean ssdp, int adminPort) {
        return "network:\n"
                + "  lan:\n    addresses: [127.0.0.1]\n    clients: [127.0.0.0/24]\n    interfaces: []\n"
                + "  wan:\n    address: 127.0.1.1\n    interface: \"\"\n    allowPrivate: true\n"
                + "dataDir: " + dataDir + "\n"
                + "pcp:\n  enabled: " + (pcpPort > 0) + "\n  port: " + Math.max(pcpPort, 1) + "\n  announce: false\n"
                + "upnp:\n  enabled: " + (upnpPort > 0) + "\n  httpPort: " + Math.max(upnpPort, 1) + "\n  ssdp: " + ssdp + "\n"
                + "admin:\n  enabled: " + (adminPort > 0) + "\n  addresses: [127.0.0.1]\n  port: " + Math.max(adminPort, 1)
                + "\n  plainHttp: false\n"
                + "triggers: []\n"
                + "dataplane:\n  enabled: false\n";
    }

    static Path writeConfig(Path dir, String yaml) throws IOException {
        Path f = dir.resolve("natgw.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    static int freeTcpPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy(); // SIGTERM to this PID: natgw stops cleanly
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
