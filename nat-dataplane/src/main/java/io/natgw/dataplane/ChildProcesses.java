package io.natgw.dataplane;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Long-lived helper processes natgw starts ({@code conntrack -E} for port triggering, {@code ip monitor address} for the
 * WAN address): where util-linux's {@code setpriv --pdeathsig KILL} works, each runs under it, so the kernel ends it
 * when natgw dies, even by {@code kill -9}. Where it does not (the Debian package's unit: its system-call filter
 * refuses the {@code capset} that setpriv makes to keep the service's ambient capabilities, and setpriv exits 127
 * without running the command), the command runs as it is and ends with the service (systemd stops the unit's whole
 * control group) or at its next write after natgw is gone. Whether setpriv works is tried once, by running it.
 */
public final class ChildProcesses {

    private static final Logger LOG = LoggerFactory.getLogger(ChildProcesses.class);
    private static final List<String> SETPRIV = List.of("setpriv", "--pdeathsig", "KILL", "--");
    private static volatile List<String> prefix;

    private ChildProcesses() {
    }

    /** {@code command}, run under {@code setpriv --pdeathsig KILL} where that works here. */
    public static List<String> dyingWithNatgw(List<String> command) {
        List<String> out = new ArrayList<>(prefix());
        out.addAll(command);
        return out;
    }

    private static List<String> prefix() {
        List<String> p = prefix;
        if (p == null) {
            synchronized (ChildProcesses.class) {
                if (prefix == null) {
                    prefix = probe();
                }
                p = prefix;
            }
        }
        return p;
    }

    /** Runs {@code setpriv --pdeathsig KILL -- true} (2 s at most): its prefix if that exits 0, none otherwise. */
    static List<String> probe() {
        if (!onPath("setpriv") || !onPath("true")) {
            LOG.info("setpriv (util-linux) is not installed: natgw's helper processes end with its service, not by the "
                    + "kernel's parent-death signal");
            return List.of();
        }
        List<String> cmd = new ArrayList<>(SETPRIV);
        cmd.add("true");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            if (!p.waitFor(2, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            } else if (p.exitValue() == 0) {
                return SETPRIV;
            }
            String why = new String(p.getInputStream().readNBytes(512)).trim();
            LOG.info("setpriv --pdeathsig cannot run here ({}): natgw's helper processes end with its service, not by "
                    + "the kernel's parent-death signal", why.isEmpty() ? "no answer" : why);
        } catch (IOException e) {
            LOG.info("setpriv --pdeathsig cannot run here ({}): natgw's helper processes end with its service", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return List.of();
    }

    /** Whether {@code tool} is an executable on PATH (or in /usr/sbin, /sbin, where root's tools live). */
    public static boolean onPath(String tool) {
        String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
