package io.natgw.it.support;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.natgw.testsupport.Command;
import org.awaitility.Awaitility;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real natgw daemon as a child process ({@code java -jar gateway/target/natgw.jar run -c FILE}), for
 * end-to-end tests. Its configuration is the shipped {@code conf/natgw.yaml} with a fresh data directory
 * and the overrides a test sets ({@code "pcp.port" -> 5351}, {@code "triggers" -> List.of()} …). Output goes
 * to {@code daemon.log} in the work directory. Stop it with {@link #close()} (SIGTERM) or {@link #kill9()}.
 *
 * <pre>{@code
 * try (Daemon d = Daemon.builder().set("upnp.enabled", false).start()) {
 *     ... natpmpc -g 127.0.0.1 ...
 *     d.kill9();
 *     d.restart();
 * }
 * }</pre>
 */
public final class Daemon implements AutoCloseable {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER));

    private final Path workDir;
    private final Path configFile;
    private final Path logFile;
    private final List<String> prefix;
    private final Map<String, String> env;
    private Process process;
    private int starts;

    private Daemon(Path workDir, Path configFile, List<String> prefix, Map<String, String> env) {
        this.workDir = workDir;
        this.configFile = configFile;
        this.logFile = workDir.resolve("daemon.log");
        this.prefix = prefix;
        this.env = env;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The repository's root (from {@code NATGW_REPO}, set by the build, else the working directory's parent). */
    public static Path repo() {
        String r = System.getenv("NATGW_REPO");
        Path p = r != null ? Path.of(r) : Path.of("").toAbsolutePath().getParent();
        return p.toAbsolutePath().normalize();
    }

    private static volatile boolean jarChecked;

    /**
     * The daemon's runnable jar, built by the gateway module before {@code it} runs. Once per test JVM the
     * launcher brings it up to date ({@code NATGW_BUILD_ONLY=1 ./natgw}: rebuilt when a pom.xml or a main source
     * is newer), so a test run on its own ({@code mvn -pl it verify}) never tests a stale daemon.
     */
    public static synchronized Path jar() {
        Path jar = repo().resolve("gateway/target/natgw.jar");
        if (!jarChecked) {
            Path launcher = repo().resolve("natgw");
            Command.Result r = Command.run(Duration.ofMinutes(15), repo(), true, List.of("env", "NATGW_BUILD_ONLY=1", launcher.toString()));
            if (r.exit() != 0) {
                throw new IllegalStateException("bringing " + jar + " up to date failed (" + launcher + "): " + r);
            }
            jarChecked = true;
        }
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: build with 'mvn -pl gateway -am package' first");
        }
        return jar;
    }

    public static final class Builder {
        private final Map<String, Object> overrides = new LinkedHashMap<>();
        private final List<String> prefix = new ArrayList<>();
        private final Map<String, String> env = new LinkedHashMap<>();
        private Path workDir;

        /** Sets a configuration key by its dotted path, e.g. {@code set("pcp.minLifetime", 1)}. */
        public Builder set(String dottedKey, Object value) {
            overrides.put(dottedKey, value);
            return this;
        }

        /** Runs the daemon under a command, e.g. {@code ip netns exec NS}. */
        public Builder prefix(String... command) {
            prefix.addAll(List.of(command));
            return this;
        }

        public Builder env(String name, String value) {
            env.put(name, value);
            return this;
        }

        /** Where config, data and log go (default: a new temporary directory). */
        public Builder workDir(Path dir) {
            this.workDir = dir;
            return this;
        }

        public Daemon start() {
            try {
                Path dir = workDir != null ? Files.createDirectories(workDir) : Files.createTempDirectory("natgw-it-");
                Map<String, Object> cfg = shippedConfig();
                cfg.put("dataDir", dir.resolve("data").toString());
                for (Map.Entry<String, Object> e : overrides.entrySet()) {
                    put(cfg, e.getKey(), e.getValue());
                }
                Path file = dir.resolve("natgw.yaml");
                YAML.writeValue(file.toFile(), cfg);
                Daemon d = new Daemon(dir, file, List.copyOf(prefix), Map.copyOf(env));
                d.launch();
                return d;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @SuppressWarnings("unchecked")
        private static Map<String, Object> shippedConfig() throws IOException {
            return YAML.readValue(repo().resolve("conf/natgw.yaml").toFile(), LinkedHashMap.class);
        }

        @SuppressWarnings("unchecked")
        private static void put(Map<String, Object> cfg, String dotted, Object value) {
            String[] parts = dotted.split("\\.");
            Map<String, Object> m = cfg;
            for (int i = 0; i < parts.length - 1; i++) {
                m = (Map<String, Object>) m.computeIfAbsent(parts[i], k -> new LinkedHashMap<String, Object>());
            }
            m.put(parts[parts.length - 1], value);
        }
    }

    private void launch() throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:MaxDirectMemorySize=128m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-jar", jar().toString(), "run", "-c", configFile.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        pb.environment().putAll(env);
        int before = countStarted();
        process = pb.start();
        starts++;
        Awaitility.await("natgw to start (log: " + logFile + ")").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("natgw exited with " + process.exitValue() + ":\n" + logTail());
                    }
                    return countStarted() > before;
                });
    }

    private int countStarted() {
        String log = log();
        int n = 0;
        for (int i = log.indexOf("natgw started"); i >= 0; i = log.indexOf("natgw started", i + 1)) {
            n++;
        }
        return n;
    }

    /** Everything the daemon has printed, over all its runs. */
    public String log() {
        try {
            return Files.exists(logFile) ? Files.readString(logFile, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String logTail() {
        String l = log();
        return l.length() > 4000 ? l.substring(l.length() - 4000) : l;
    }

    public Path workDir() {
        return workDir;
    }

    public Path configFile() {
        return configFile;
    }

    public Path dataDir() {
        return workDir.resolve("data");
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    /** SIGKILL: the crash the durability contract is about. */
    public void kill9() {
        process.destroyForcibly();
        waitExit();
    }

    /** Starts it again on the same configuration and data. */
    public void restart() {
        if (alive()) {
            close();
        }
        try {
            launch();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SIGTERM and wait: a clean stop. */
    @Override
    public void close() {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                waitExit();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private void waitExit() {
        try {
            process.waitFor(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** How many times it has been launched. */
    public int starts() {
        return starts;
    }
}
