package io.natgw.dataplane;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs the system tools linux-gateway mode needs ({@code nft}, {@code ip}), bounded in time. The output is read
 * while the tool runs (a tool whose output fills the pipe would otherwise block until the time limit), and
 * kept up to {@link #MAX_OUTPUT} bytes.
 */
final class Shell {

    static final long LIMIT_SECONDS = 10;
    static final int MAX_OUTPUT = 4 << 20;

    record Result(int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    private Shell() {
    }

    static Result runWithInput(String stdin, String... command) {
        ProcessBuilder pb = new ProcessBuilder(List.of(command)).redirectErrorStream(true);
        Process p = null;
        try {
            p = pb.start();
            InputStream stdout = p.getInputStream();
            FutureTask<String> output = new FutureTask<>(() -> drain(stdout));
            Thread reader = new Thread(output, "shell-output " + command[0]);
            reader.setDaemon(true);
            reader.start();
            try (OutputStream in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                // the tool exited without reading all of its input: its exit code and output say why
            }
            if (!p.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, String.join(" ", command) + " did not finish within " + LIMIT_SECONDS + " s");
            }
            return new Result(p.exitValue(), output.get(LIMIT_SECONDS, TimeUnit.SECONDS).trim());
        } catch (IOException | ExecutionException | TimeoutException e) {
            if (p != null) {
                p.destroyForcibly();
            }
            return new Result(-1, String.join(" ", command) + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (p != null) {
                p.destroyForcibly();
            }
            return new Result(-1, "interrupted");
        }
    }

    static Result run(String... command) {
        return runWithInput(null, command);
    }

    /** Reads to the end; keeps the first {@link #MAX_OUTPUT} bytes and discards the rest, so the tool never blocks. */
    private static String drain(InputStream in) throws IOException {
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        for (int n; (n = in.read(buf)) >= 0; ) {
            kept.write(buf, 0, Math.max(0, Math.min(n, MAX_OUTPUT - kept.size())));
        }
        return kept.toString(StandardCharsets.UTF_8);
    }
}
