package io.natgw.it.admin;

import io.natgw.it.support.Daemon;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the {@code natgw} admin commands against a running daemon: {@link #run} in this JVM (the same picocli
 * commands, talking HTTPS to the daemon; fast), {@link #process} as the real {@code java -jar natgw.jar ... -c FILE}.
 */
final class NatgwCli {

    record Result(int exit, String out, String err) {
    }

    @picocli.CommandLine.Command(name = "natgw")
    static final class Root {
    }

    private NatgwCli() {
    }

    static Result run(Path config, String... args) {
        picocli.CommandLine cl = new picocli.CommandLine(new Root());
        io.natgw.gateway.cli.AdminCommands.register(cl);
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        cl.setOut(new java.io.PrintWriter(out));
        cl.setErr(new java.io.PrintWriter(err));
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("-c", config.toString()));
        int exit = cl.execute(all.toArray(String[]::new));
        return new Result(exit, out.toString(), err.toString());
    }

    static Result process(Path config, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", Daemon.jar().toString()));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-c", config.toString()));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("natgw " + String.join(" ", args) + " did not finish in 60 s");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }
}
