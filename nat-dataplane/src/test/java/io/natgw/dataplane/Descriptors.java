package io.natgw.dataplane;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Real descriptor exhaustion of this JVM, bounded and undone: lowers the soft open-files limit to a little above what
 * is open now ({@code prlimit}, util-linux), opens {@code /dev/null} until the kernel says EMFILE, and on close
 * releases them and puts the limit back.
 */
final class Descriptors implements AutoCloseable {

    private static final int HEADROOM = 32;

    private final long pid = ProcessHandle.current().pid();
    private final String previous;
    private final List<RandomAccessFile> held = new ArrayList<>();

    private Descriptors(String previous) {
        this.previous = previous;
    }

    /** Whether this machine can do it: prlimit on PATH and /proc/self/fd readable. */
    static String missing() {
        if (!Files.isDirectory(Path.of("/proc/self/fd"))) {
            return "no /proc/self/fd";
        }
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, "prlimit"))) {
                return null;
            }
        }
        return "prlimit (Debian util-linux) is not on PATH";
    }

    static long openNow() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /** Exhausts this JVM's descriptors; the next socket() fails with EMFILE until {@link #close()}. */
    static Descriptors exhaust() throws IOException, InterruptedException {
        String soft = run("prlimit", "--pid", Long.toString(ProcessHandle.current().pid()), "--nofile", "--output=SOFT",
                "--noheadings").trim();
        Descriptors d = new Descriptors(soft);
        long limit = openNow() + HEADROOM;
        run("prlimit", "--pid", Long.toString(d.pid), "--nofile=" + limit + ":");
        try {
            d.topUp();
            return d;
        } catch (IOException | RuntimeException e) {
            d.close();
            throw e;
        }
    }

    /**
     * Takes whatever descriptors were freed since (a socket another thread closed late): call right before the step
     * that must meet EMFILE.
     */
    void topUp() throws IOException {
        for (int i = 0; i < HEADROOM * 4; i++) {
            try {
                held.add(new RandomAccessFile("/dev/null", "r"));
            } catch (IOException emfile) {
                if (!String.valueOf(emfile.getMessage()).contains("Too many open files")) {
                    throw emfile;
                }
                return;
            }
        }
        throw new IllegalStateException("still opening files after " + held.size() + " past the lowered limit");
    }

    /** Frees one descriptor (e.g. for a process that must still start). */
    void release(int n) throws IOException {
        for (int i = 0; i < n && !held.isEmpty(); i++) {
            held.remove(held.size() - 1).close();
        }
    }

    @Override
    public void close() throws IOException {
        release(held.size());
        try {
            run("prlimit", "--pid", Long.toString(pid), "--nofile=" + previous + ":");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("restoring the open-files limit was interrupted", e);
        }
    }

    /**
     * Runs a command with no pipes to this JVM (input from /dev/null, output to a file): a pipe's descriptor would be
     * closed later by the JDK's process reaper, freeing a descriptor in the middle of the exhaustion.
     */
    private static String run(String... cmd) throws IOException, InterruptedException {
        Path out = Files.createTempFile("prlimit", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " failed: " + Files.readString(out));
            }
            return Files.readString(out);
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
