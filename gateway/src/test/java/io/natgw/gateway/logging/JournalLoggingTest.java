package io.natgw.gateway.logging;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon's logging set-up ({@link NatgwLogConfigurator}) in a child JVM whose stdout is a file: with JOURNAL_STREAM naming that file (what systemd
 * does for StandardOutput=journal) every line carries its level as an sd-daemon priority and no timestamp; without it,
 * or when it names another file, the console format with its timestamp.
 */
class JournalLoggingTest {

    private static final String TIMESTAMP = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) ";

    @TempDir
    Path dir;

    @Test
    void underTheJournalEachLineCarriesItsLevelAsPriorityAndNoTimestamp() throws Exception {
        Path out = dir.resolve("stdout");
        Files.createFile(out);
        List<String> lines = run(out, devIno(out), "DEBUG");
        assertEquals(List.of(
                "<3>ERROR [main] Probe - an error",
                "<4>WARN  [main] Probe - a warning",
                "<6>INFO  [main] Probe - an info",
                "<7>DEBUG [main] Probe - a debug"), lines);
    }

    @Test
    void withoutJournalStreamTheConsoleFormatIsUnchanged() throws Exception {
        Path out = dir.resolve("stdout");
        Files.createFile(out);
        assertConsoleFormat(run(out, null, "DEBUG"));
    }

    @Test
    void aJournalStreamThatIsNotOurStdoutIsIgnored() throws Exception {
        Path out = dir.resolve("stdout");
        Path other = dir.resolve("other");
        Files.createFile(out);
        Files.createFile(other);
        assertConsoleFormat(run(out, devIno(other), "DEBUG"));
    }

    @Test
    void theDefaultLevelIsInfoAndJupnpAndNettyLogWarningsOnly() throws Exception {
        Path out = dir.resolve("stdout");
        Files.createFile(out);
        List<String> lines = run(out, devIno(out), null);
        assertEquals(List.of("<3>ERROR [main] Probe - an error", "<4>WARN  [main] Probe - a warning",
                "<6>INFO  [main] Probe - an info"), lines);
    }

    @Test
    void logbackConfigurationFileReplacesTheBuiltInSetUp() throws Exception {
        Path out = dir.resolve("stdout");
        Files.createFile(out);
        Path xml = dir.resolve("mine.xml");
        Files.writeString(xml, """
                <configuration>
                  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>mine %level %msg%n</pattern></encoder>
                  </appender>
                  <root level="WARN"><appender-ref ref="OUT"/></root>
                </configuration>
                """);
        List<String> lines = run(out, devIno(out), "DEBUG", "-Dlogback.configurationFile=" + xml);
        assertEquals(List.of("mine ERROR an error", "mine WARN a warning"), lines);
    }

    @Test
    void malformedOrEmptyValuesAreNotTheJournal() throws Exception {
        Path out = dir.resolve("stdout");
        Files.createFile(out);
        for (String bad : new String[] {"", "12", "a:b", "1:2:3", ":"}) {
            assertFalse(JournalStream.matches(bad, out), bad);
        }
        assertFalse(JournalStream.matches(null, out));
        assertTrue(JournalStream.matches(devIno(out), out));
    }

    private static void assertConsoleFormat(List<String> lines) {
        assertEquals(4, lines.size(), lines.toString());
        String[] expected = {"ERROR [main] Probe - an error", "WARN  [main] Probe - a warning", "INFO  [main] Probe - an info",
                "DEBUG [main] Probe - a debug"};
        for (int i = 0; i < expected.length; i++) {
            assertTrue(lines.get(i).matches(TIMESTAMP + java.util.regex.Pattern.quote(expected[i])), lines.get(i));
        }
    }

    private static String devIno(Path file) throws IOException {
        Map<String, Object> attrs = Files.readAttributes(file, "unix:dev,ino");
        return attrs.get("dev") + ":" + attrs.get("ino");
    }

    /**
     * The child JVM's stdout lines; JOURNAL_STREAM set to {@code journalStream} and NATGW_LOG_LEVEL to {@code level},
     * each removed when null.
     */
    private static List<String> run(Path stdout, String journalStream, String level, String... jvmOptions) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new java.util.ArrayList<>(List.of(java.toString()));
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), LogEveryLevel.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(stdout.toFile()))
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().remove("JOURNAL_STREAM");
        pb.environment().remove("NATGW_LOG_LEVEL");
        if (level != null) {
            pb.environment().put("NATGW_LOG_LEVEL", level);
        }
        if (journalStream != null) {
            pb.environment().put("JOURNAL_STREAM", journalStream);
        }
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM hung");
        assertEquals(0, p.exitValue());
        return Files.readAllLines(stdout, StandardCharsets.UTF_8);
    }
}
