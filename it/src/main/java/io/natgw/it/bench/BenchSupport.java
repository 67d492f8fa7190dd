package io.natgw.it.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/** What the Java benchmarks share: latency percentiles, and keeping the daemon's per-mapping log out of the figures. */
final class BenchSupport {

    private BenchSupport() {
    }

    /** One run's operation count, wall time and ascending latencies, and the figures derived from them. */
    interface Timed {
        int ops();

        Duration elapsed();

        long[] sortedNanos();

        default double opsPerSecond() {
            return perSecond(ops(), elapsed());
        }

        default double millisAt(double q) {
            return BenchSupport.millisAt(sortedNanos(), q);
        }
    }

    /**
     * A fresh directory for one benchmark run under {@code -Dnatgw.bench.dir} (default: the temp directory, so pick
     * the disk to measure), with Logback writing there at {@code logLevel} ({@link #logToFile}).
     */
    static Path workDir(String prefix, String logLevel) throws IOException {
        Path base = Path.of(System.getProperty("natgw.bench.dir", System.getProperty("java.io.tmpdir")));
        Path root = Files.createTempDirectory(base, prefix);
        logToFile(root, logLevel);
        return root;
    }

    /** Deletes {@code root} and everything under it. */
    static void deleteTree(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The latency at quantile {@code q} (0..1, nearest rank) of ascending nanoseconds, in milliseconds. */
    static double millisAt(long[] sortedNanos, double q) {
        return sortedNanos[Math.min(sortedNanos.length - 1, Math.max(0, (int) Math.ceil(q * sortedNanos.length) - 1))] / 1e6;
    }

    /** Operations per second over {@code elapsed}. */
    static double perSecond(int ops, Duration elapsed) {
        return ops / (elapsed.toNanos() / 1e9);
    }

    /** One line saying where the figures come from: data directory and its file system, cores, load, JVM. */
    static void printEnvironment(Path dataDir) throws IOException {
        System.out.printf("data: %s (%s), %d cores, load average %.1f, %s%n%n", dataDir, Files.getFileStore(dataDir).type(),
                Runtime.getRuntime().availableProcessors(), ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                System.getProperty("java.vm.name") + " " + Runtime.version());
    }

    /** The slowest of ascending nanoseconds, in milliseconds. */
    static double maxMillis(long[] sortedNanos) {
        return sortedNanos[sortedNanos.length - 1] / 1e6;
    }

    /**
     * Sends Logback's output to {@code dir/bench.log} at {@code level} (one INFO line per mapping would otherwise
     * be printed, and timed, for every operation), unless {@code -Dlogback.configurationFile} already says where.
     */
    static void logToFile(Path dir, String level) throws IOException {
        if (System.getProperty("logback.configurationFile") != null) {
            return;
        }
        Path xml = dir.resolve("logback-bench.xml");
        Files.writeString(xml, "<configuration><appender name=\"F\" class=\"ch.qos.logback.core.FileAppender\">"
                + "<file>" + dir.resolve("bench.log") + "</file><encoder><pattern>%d %-5level %logger{0} - %msg%n</pattern>"
                + "</encoder></appender><root level=\"" + level + "\"><appender-ref ref=\"F\"/></root></configuration>");
        System.setProperty("logback.configurationFile", xml.toString());
    }
}
