package io.natgw.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a tool for a test (upnpc, natpmpc, the natgw CLI …) with a time limit, reading its output while it runs
 * (a tool that fills its pipe would otherwise block, and a read after {@code waitFor} would never see it end).
 * A tool that does not finish in time is killed and fails the test with what it printed.
 *
 * <pre>{@code
 * Command.Result r = Command.run(Duration.ofSeconds(30), "upnpc", "-u", url, "-l");
 * assertEquals(0, r.exit(), r.output());
 * }</pre>
 */
public final class Command {

    /** Exit code, standard output (with standard error when merged) and standard error (empty when merged). */
    public record Result(int exit, String output, String error) {
        @Override
        public String toString() {
            return "exit " + exit + "\n" + output + (error.isEmpty() ? "" : "\nstderr:\n" + error);
        }
    }

    private Command() {
    }

    /** Runs {@code command} with standard error merged into the output. */
    public static Result run(Duration limit, String... command) {
        return run(limit, null, true, List.of(command));
    }

    /**
     * @param dir        working directory, or null for this JVM's
     * @param mergeError standard error into the output, or kept apart in {@link Result#error()}
     */
    public static Result run(Duration limit, Path dir, boolean mergeError, List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(mergeError);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
        }
        FutureTask<String> out = drain(p.getInputStream(), command);
        FutureTask<String> err = mergeError ? null : drain(p.getErrorStream(), command);
        try {
            p.getOutputStream().close();
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(String.join(" ", command) + " did not finish within " + limit + "; it printed:\n"
                        + out.get(10, TimeUnit.SECONDS));
            }
            return new Result(p.exitValue(), out.get(10, TimeUnit.SECONDS), err == null ? "" : err.get(10, TimeUnit.SECONDS));
        } catch (IOException | ExecutionException | TimeoutException e) {
            throw new IllegalStateException("reading the output of " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
        } finally {
            p.destroyForcibly();
        }
    }

    private static FutureTask<String> drain(InputStream in, List<String> command) {
        FutureTask<String> task = new FutureTask<>(() -> {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            return all.toString(StandardCharsets.UTF_8);
        });
        Thread t = new Thread(task, "output of " + command.get(0));
        t.setDaemon(true);
        t.start();
        return task;
    }
}
