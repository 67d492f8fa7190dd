package io.natgw.igd;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs Debian tools for tests: a missing tool skips the test with a reason, or fails it when
 * NATGW_REQUIRE_ALL=1 (CI), as {@code io.natgw.it.support.Require} does in the it module.
 */
final class Tools {

    record Run(int exit, String output) {
    }

    private Tools() {
    }

    static void require(String tool) {
        boolean present = false;
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                present = true;
                break;
            }
        }
        String why = tool + " is not installed (Debian package: " + (tool.equals("upnpc") ? "miniupnpc" : tool) + ")";
        if ("1".equals(System.getenv("NATGW_REQUIRE_ALL"))) {
            if (!present) {
                throw new AssertionError(why + " and NATGW_REQUIRE_ALL=1");
            }
            return;
        }
        Assumptions.assumeTrue(present, why);
    }

    static Run run(String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError(String.join(" ", cmd) + " did not finish in 30 s");
            }
            return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } finally {
            p.destroyForcibly();
        }
    }
}
