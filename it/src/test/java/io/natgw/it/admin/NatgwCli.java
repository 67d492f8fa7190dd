package io.natgw.it.admin;

import io.natgw.it.support.Daemon;
import io.natgw.testsupport.Command;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

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

    /** The real CLI process; its output is read while it runs (60 s ceiling that only catches a hang). */
    static Result process(Path config, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", Daemon.jar().toString()));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-c", config.toString()));
        Command.Result r = Command.run(Duration.ofSeconds(60), null, false, cmd);
        return new Result(r.exit(), r.output(), r.error());
    }
}
