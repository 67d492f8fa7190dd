package io.natgw.dataplane;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shell reads a tool's output while it runs: more output than a pipe holds neither blocks nor is lost. */
class ShellTest {

    /** Far more than the kernel's 64 KiB pipe buffer. */
    private static final int BIG = 1 << 20;

    @Test
    void outputLargerThanThePipeIsReadWhileTheToolRuns() {
        Shell.Result r = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> Shell.run("sh", "-c", "head -c " + BIG + " /dev/zero | tr '\\0' x"));
        assertEquals(0, r.exitCode(), r.output().length() > 200 ? r.output().substring(0, 200) : r.output());
        assertEquals("x".repeat(BIG), r.output(), "every byte of the output");
    }

    @Test
    void inputLargerThanThePipeIsFedWhileItsEchoIsRead() {
        String input = "x".repeat(BIG);
        Shell.Result r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> Shell.runWithInput(input, "cat"));
        assertTrue(r.ok());
        assertEquals(input, r.output());
    }

    @Test
    void exitCodeAndOutputOfAFailingTool() {
        Shell.Result r = Shell.run("sh", "-c", "echo 'Error: no such table' >&2; exit 3");
        assertFalse(r.ok());
        assertEquals(3, r.exitCode());
        assertEquals("Error: no such table", r.output());
    }

    @Test
    void aMissingToolIsAFailureNamingIt() {
        Shell.Result r = Shell.run("natgw-no-such-tool");
        assertEquals(-1, r.exitCode());
        assertTrue(r.output().startsWith("natgw-no-such-tool"), r.output());
    }
}
