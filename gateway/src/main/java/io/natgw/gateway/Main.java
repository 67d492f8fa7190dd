package io.natgw.gateway;

import io.natgw.conf.ConfigError;
import io.natgw.conf.ConfigException;
import io.natgw.conf.ConfigLoader;
import io.natgw.conf.NatgwConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/** The {@code natgw} command. */
@Command(name = "natgw", mixinStandardHelpOptions = true, version = "natgw 0.1.0",
        description = "A NAT gateway's port-mapping server: UPnP IGD, NAT-PMP and PCP over one mapping table.",
        subcommands = {Main.Run.class, Main.CheckConfig.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        io.natgw.gateway.cli.AdminCommands.register(cl); // leases, map, unmap, triggers, status, token, ui
        return cl;
    }

    /** The configuration named by {@code -c}, else the {@link DefaultConfig}. */
    static NatgwConfig loadConfig(Path file) throws ConfigException {
        return file != null ? ConfigLoader.load(file) : DefaultConfig.load();
    }

    static void printErrors(ConfigException e, PrintWriter err) {
        for (ConfigError error : e.errors()) {
            err.println(error);
        }
        err.flush();
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = {"Run the gateway: restore the leases, then listen. Stops cleanly on SIGTERM.",
                    "SIGHUP re-reads the configuration file (as 'natgw reload'): an invalid file changes nothing."})
    static final class Run implements Callable<Integer> {
        @Option(names = {"-c", "--config"}, paramLabel = "FILE",
                description = "configuration file (default: " + DefaultConfig.DESCRIPTION + ")")
        Path config;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            NatgwConfig cfg;
            try {
                cfg = loadConfig(config);
            } catch (ConfigException e) {
                printErrors(e, spec.commandLine().getErr());
                return 1;
            }
            // SIGTERM and SIGINT end the run normally (exit 0, as service managers expect), not by the JVM's
            // default of dying with 128+signal; the hook still closes cleanly on any other exit. The handlers are in
            // place before the gateway starts: a stop sent as soon as "natgw started" is logged (or during start) is
            // taken once start returns.
            CountDownLatch stop = new CountDownLatch(1);
            for (String name : new String[] {"TERM", "INT"}) {
                sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> stop.countDown());
            }
            // SIGHUP reloads (the JVM's default would stop the daemon); the JVM runs each signal's handler on a thread
            // of its own, and reloads are serialized by the gateway. The outcome is logged. During start it is ignored.
            AtomicReference<Gateway> started = new AtomicReference<>();
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> {
                Gateway g = started.get();
                if (g != null) {
                    g.reload();
                }
            });
            Gateway gateway;
            try {
                Path file = config;
                gateway = Gateway.start(cfg, Clock.systemUTC(), () -> loadConfig(file));
            } catch (Gateway.StartException e) {
                spec.commandLine().getErr().println("natgw: cannot start: " + e.getMessage());
                return 2;
            }
            started.set(gateway);
            Thread hook = new Thread(gateway::close, "natgw-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            stop.await();
            gateway.close();
            return 0;
        }
    }

    @Command(name = "check-config", mixinStandardHelpOptions = true,
            description = "Validate a configuration file; prints file:line:column errors, exit 1 on any.")
    static final class CheckConfig implements Callable<Integer> {
        @Parameters(paramLabel = "FILE", description = "the configuration file to check")
        Path file;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            try {
                NatgwConfig cfg = ConfigLoader.load(file);
                spec.commandLine().getOut().println(file + ": ok (" + cfg.staticMappings().size() + " static mappings, "
                        + cfg.triggers().size() + " trigger rules, " + cfg.permissions().size() + " permission rules)");
                return 0;
            } catch (ConfigException e) {
                printErrors(e, spec.commandLine().getErr());
                return 1;
            }
        }
    }
}
