package io.natgw.igd;

import io.natgw.testsupport.Command;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Runs Debian tools for tests: a missing tool skips the test with a reason, or fails it when
 * NATGW_REQUIRE_ALL=1 (CI), as {@code io.natgw.it.support.Require} does in the it module.
 */
final class Tools {

    record Run(int exit, String output) {
        @Override
        public String toString() {
            return "exit " + exit + ":\n" + output;
        }
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

    /** Runs a tool (output read while it runs, 30 s ceiling that only catches a hang). */
    static Run run(String... command) {
        Command.Result r = Command.run(Duration.ofSeconds(30), command);
        return new Run(r.exit(), r.output());
    }
}
