package io.natgw.dataplane;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The helper processes' wrapper runs the command, under setpriv's parent-death signal where setpriv works. (Where it
 * does not, under the Debian unit's system-call filter, packaging/ci-check.sh runs the packaged daemon and checks that
 * its helper processes run.)
 */
class ChildProcessesTest {

    @Test
    void theCommandRunsWhetherOrNotSetprivWrapsIt() throws Exception {
        List<String> cmd = ChildProcesses.dyingWithNatgw(List.of("sh", "-c", "echo ran; exit 7"));
        assertEquals(List.of("sh", "-c", "echo ran; exit 7"), cmd.subList(cmd.size() - 3, cmd.size()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS), "a ceiling that catches a hang");
        assertEquals(7, p.exitValue(), "the command's own exit status, not setpriv's");
        assertEquals("ran", new String(p.getInputStream().readAllBytes()).trim());
    }

    @Test
    void setprivIsUsedWhereItWorks() throws Exception {
        boolean works = ChildProcesses.onPath("setpriv")
                && new ProcessBuilder("setpriv", "--pdeathsig", "KILL", "--", "true").start().waitFor() == 0;
        List<String> prefix = ChildProcesses.probe();
        assertEquals(works, !prefix.isEmpty(), "the probe agrees with running setpriv by hand: " + prefix);
        if (works) {
            assertEquals(List.of("setpriv", "--pdeathsig", "KILL", "--"), prefix);
        }
    }
}
