package io.natgw.gateway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code natgw triggers list|add|delete|enable|disable}: port-triggering rules, as on a router's page. */
@Command(name = "triggers", mixinStandardHelpOptions = true, description = {"List and edit port-triggering rules.",
        "Once changed here, the saved set is in force instead of the configuration file's triggers (at start and on"
                + " reload) until 'natgw triggers reset'; 'list' shows each rule's source."},
        subcommands = {Triggers.ListRules.class, Triggers.Add.class, Triggers.Delete.class, Triggers.Enable.class,
                Triggers.Disable.class, Triggers.Reset.class})
final class Triggers implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: list, add, delete, enable, disable or reset");
    }

    static String describe(JsonNode t) {
        return "#" + t.path("index").asText() + " '" + t.path("name").asText() + "' " + t.path("triggerProtocol").asText() + " "
                + t.path("triggerPorts").asText() + " -> " + t.path("incomingProtocol").asText() + " " + t.path("incomingPorts").asText()
                + " for " + t.path("timeout").asText() + " s" + (t.path("enabled").asBoolean() ? "" : " (disabled)");
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the rules in force.")
    static final class ListRules extends CliCommand {
        @Option(names = "--json", description = "print the API's JSON")
        boolean json;
        @Option(names = "--predefined", description = "list the predefined services instead (starting points for add --from)")
        boolean predefined;

        @Override
        void run() throws CliException {
            JsonNode r = daemon.client().get(predefined ? "/api/v1/triggers/predefined" : "/api/v1/triggers");
            if (json) {
                out().println(r.toPrettyString());
                return;
            }
            printRules(this, r, predefined ? "predefined" : "triggers");
        }
    }

    static void printRules(CliCommand c, JsonNode r, String field) {
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode t : r.path(field)) {
            rows.add(List.of(t.path("index").asText(), t.path("name").asText(), t.path("triggerProtocol").asText(),
                    t.path("triggerPorts").asText(), t.path("incomingProtocol").asText(), t.path("incomingPorts").asText(),
                    t.path("timeout").asText(), t.path("enabled").asBoolean() ? "enabled" : "disabled",
                    t.path("source").asText("-")));
        }
        Tables.print(c.out(), List.of("#", "NAME", "TRIGGER", "TRIGGER PORTS", "INCOMING", "INCOMING PORTS", "TIMEOUT", "STATUS",
                "SOURCE"), rows);
        if (r.has("source")) {
            c.out().println(r.path("source").asText().equals("api")
                    ? "rules in force: the set saved through the admin API (the configuration file's triggers are not applied;"
                            + " 'natgw triggers reset' returns to them)"
                    : "rules in force: the configuration file's triggers");
        }
    }

    @Command(name = "reset", mixinStandardHelpOptions = true,
            description = "Drop the rules saved through the admin API and apply the configuration file's triggers again.")
    static final class Reset extends CliCommand {
        @Override
        void run() throws CliException {
            JsonNode r = daemon.client().post("/api/v1/triggers/reset", null);
            printRules(this, r, "triggers");
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Add a rule, e.g. natgw triggers add --name 'IRC IDENT' --trigger-ports 6660-7000 --incoming-ports 113")
    static final class Add extends CliCommand {
        @Option(names = "--name", description = "a unique name (the router's comment)")
        String name;
        @Option(names = "--from", paramLabel = "SERVICE", description = "start from a predefined service (see list --predefined)")
        String from;
        @Option(names = "--trigger-protocol", paramLabel = "tcp|udp|both")
        String triggerProtocol;
        @Option(names = "--trigger-ports", paramLabel = "PORTS", description = "e.g. 6660-7000,7070")
        String triggerPorts;
        @Option(names = "--incoming-protocol", paramLabel = "tcp|udp|both")
        String incomingProtocol;
        @Option(names = "--incoming-ports", paramLabel = "PORTS", description = "e.g. 113")
        String incomingPorts;
        @Option(names = "--timeout", paramLabel = "SECONDS", description = "inactivity before the incoming ports close")
        Long timeout;
        @Option(names = "--disabled", description = "add it switched off")
        boolean disabled;

        @Override
        void run() throws CliException {
            AdminClient c = daemon.client();
            Map<String, Object> body = new LinkedHashMap<>();
            if (from != null) {
                JsonNode base = null;
                for (JsonNode p : c.get("/api/v1/triggers/predefined").path("predefined")) {
                    if (p.path("name").asText().equalsIgnoreCase(from)) {
                        base = p;
                    }
                }
                if (base == null) {
                    throw new CliException(CliException.REFUSED, "no predefined service '" + from + "' (see natgw triggers list --predefined)");
                }
                for (String f : List.of("name", "triggerProtocol", "triggerPorts", "incomingProtocol", "incomingPorts")) {
                    body.put(f, base.path(f).asText());
                }
                body.put("timeout", base.path("timeout").asLong());
            }
            put(body, "name", name);
            put(body, "triggerProtocol", triggerProtocol);
            put(body, "triggerPorts", triggerPorts);
            put(body, "incomingProtocol", incomingProtocol);
            put(body, "incomingPorts", incomingPorts);
            put(body, "timeout", timeout);
            body.put("enabled", !disabled);
            out().println("added " + describe(c.post("/api/v1/triggers", body)));
        }

        private static void put(Map<String, Object> body, String key, Object value) {
            if (value != null) {
                body.put(key, value);
            }
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a rule by index or name.")
    static final class Delete extends CliCommand {
        @Parameters(paramLabel = "INDEX|NAME")
        String id;

        @Override
        void run() throws CliException {
            out().println("deleted " + describe(daemon.client().delete("/api/v1/triggers/" + AdminCommands.enc(id))));
        }
    }

    @Command(name = "enable", mixinStandardHelpOptions = true, description = "Switch a rule on.")
    static final class Enable extends CliCommand {
        @Parameters(paramLabel = "INDEX|NAME")
        String id;

        @Override
        void run() throws CliException {
            out().println("enabled " + describe(daemon.client().post("/api/v1/triggers/" + AdminCommands.enc(id) + "/enable", null)));
        }
    }

    @Command(name = "disable", mixinStandardHelpOptions = true, description = "Switch a rule off (it stays in the list).")
    static final class Disable extends CliCommand {
        @Parameters(paramLabel = "INDEX|NAME")
        String id;

        @Override
        void run() throws CliException {
            out().println("disabled " + describe(daemon.client().post("/api/v1/triggers/" + AdminCommands.enc(id) + "/disable", null)));
        }
    }
}
