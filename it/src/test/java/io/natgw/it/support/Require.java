package io.natgw.it.support;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Prerequisites of end-to-end tests: a missing tool, root or network namespaces skips the test with the
 * reason, unless {@code NATGW_REQUIRE_ALL=1} (CI), where it fails the test instead.
 */
public final class Require {

    private Require() {
    }

    public static boolean requireAll() {
        return "1".equals(System.getenv("NATGW_REQUIRE_ALL"));
    }

    /** A command on the PATH, e.g. {@code upnpc}, {@code natpmpc}. */
    public static void tool(String command) {
        check(onPath(command), "'" + command + "' is not installed (see .ci/run for the Debian packages)");
    }

    public static void root() {
        check("root".equals(System.getProperty("user.name")), "the test needs root (network namespaces, nftables)");
    }

    /** Root plus working {@code ip netns}. */
    public static void netns() {
        root();
        tool("ip");
        check(run("ip", "netns", "list"), "'ip netns' does not work here");
    }

    /** The packaged daemon the end-to-end tests start ({@code gateway/target/natgw.jar}) is built. */
    public static void daemonJar() {
        check(java.nio.file.Files.isRegularFile(Daemon.repo().resolve("gateway/target/natgw.jar")),
                "gateway/target/natgw.jar is missing (mvn -pl gateway -am package)");
    }

    public static void check(boolean ok, String reason) {
        if (ok) {
            return;
        }
        if (requireAll()) {
            throw new AssertionError("NATGW_REQUIRE_ALL=1 and " + reason);
        }
        Assumptions.assumeTrue(false, reason);
    }

    public static boolean onPath(String command) {
        String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
        for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    private static boolean run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
