package io.natgw.gateway.cli;

import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** Shared by the admin commands: {@code -c FILE}, output streams, and one place that turns failures into exit codes. */
abstract class CliCommand implements Callable<Integer> {

    @Mixin
    DaemonOptions daemon;

    @Spec
    CommandLine.Model.CommandSpec spec;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    @Override
    public final Integer call() {
        try {
            run();
            out().flush();
            return 0;
        } catch (CliException e) {
            out().flush();
            PrintWriter err = spec.commandLine().getErr();
            err.println("natgw " + spec.name() + ": " + e.getMessage());
            err.flush();
            return e.exitCode();
        }
    }

    abstract void run() throws CliException;
}
