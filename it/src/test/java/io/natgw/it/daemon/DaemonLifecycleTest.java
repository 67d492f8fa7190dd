package io.natgw.it.daemon;

import io.natgw.it.support.Daemon;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The daemon as a user meets it: {@code natgw run} with no arguments, SIGTERM, {@code natgw check-config}. */
class DaemonLifecycleTest {

    static Process natgw(Path cwd, Path output, String... args) throws IOException {
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:MaxDirectMemorySize=128m", "-jar", Daemon.jar().toString()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true)
                .redirectOutput(output.toFile()).start();
    }

    @Test
    void runWithNoArgumentsStartsOnTheEmbeddedDefaultsAndStopsCleanlyOnSigterm(@TempDir Path cwd) throws Exception {
        Path log = cwd.resolve("out.log");
        Process p = natgw(cwd, log, "run");
        try {
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(log).contains("natgw started")
                    || !p.isAlive());
            String out = Files.readString(log);
            assertTrue(p.isAlive(), out);
            assertTrue(out.contains("restored 0 mappings (0 expired)"), out);
            assertTrue(out.contains("external address 127.0.1.1"), out);
            assertTrue(Files.isDirectory(cwd.resolve("data")), "the data directory is created in the working directory");
        } finally {
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "stops within 30 s of SIGTERM");
        }
        assertEquals(0, p.exitValue(), Files.readString(log));
        assertTrue(Files.readString(log).contains("natgw stopped"));
    }

    @Test
    void checkConfigNamesFileLineAndColumnAndExitsOne(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "pcp:\n  port: 70000\ntriggers:\n  - name: x\n    triggerPorts: 123-456-789\n    incomingPorts: 113\n",
                StandardCharsets.UTF_8);
        Path out = dir.resolve("out.txt");
        Process p = natgw(dir, out, "check-config", bad.toString());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String text = Files.readString(out);
        assertEquals(1, p.exitValue(), text);
        assertTrue(text.contains(bad + ":2:9: "), text);
        assertTrue(text.contains("70000"), text);
        assertTrue(text.contains(bad + ":5:19: ") && text.contains("123-456-789"), text);
    }

    @Test
    void checkConfigAcceptsTheShippedFile(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out.txt");
        Process p = natgw(dir, out, "check-config", Daemon.repo().resolve("conf/natgw.yaml").toString());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), Files.readString(out));
    }
}
