package io.natgw.gateway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.natgw.gateway.admin.AdminEndpoint;
import io.natgw.gateway.admin.AdminFiles;
import io.natgw.gateway.admin.AdminToken;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The admin commands of {@code natgw}: they talk to the running daemon through its HTTPS API. Exit codes:
 * 0 done, 1 refused by the daemon (or invalid configuration), 2 bad command line, 3 daemon not running,
 * 4 token missing or rejected.
 */
public final class AdminCommands {

    private AdminCommands() {
    }

    public static void register(CommandLine root) {
        root.addSubcommand("leases", new Leases());
        root.addSubcommand("map", new MapCommand());
        root.addSubcommand("unmap", new Unmap());
        root.addSubcommand("triggers", new Triggers());
        root.addSubcommand("status", new Status());
        root.addSubcommand("reload", new Reload());
        root.addSubcommand("token", new Token());
        root.addSubcommand("ui", new Ui());
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** A byte figure of the API's {@code traffic} object, with "~" before it when the API marks it approximate. */
    static String bytes(JsonNode traffic, String field) {
        return (traffic.path("bytesApproximate").asBoolean() ? "~" : "") + traffic.path(field).asText();
    }

    @Command(name = "leases", mixinStandardHelpOptions = true,
            description = "List the lease table (every mapping of every kind; FAMILY ipv6 rows are IPv6 pinholes).")
    static final class Leases extends CliCommand {
        @Option(names = "--json", description = "print the API's JSON")
        boolean json;

        @Override
        void run() throws CliException {
            JsonNode r = daemon.client().get("/api/v1/mappings");
            if (json) {
                out().println(r.toPrettyString());
                return;
            }
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode m : r.path("mappings")) {
                rows.add(List.of(m.path("family").asText("ipv4"), m.path("protocol").asText(),
                        m.path("external").asText() + (m.hasNonNull("pinholeId") ? " #" + m.path("pinholeId").asText() : ""),
                        m.path("internal").asText(),
                        m.path("remote").asText(), m.path("kind").asText(), m.path("origin").asText(), m.path("owner").asText(),
                        Tables.duration(m.get("remainingSeconds")), m.path("enabled").asBoolean() ? "yes" : "no",
                        bytes(m.path("traffic"), "bytesReceived"), bytes(m.path("traffic"), "bytesSent"),
                        m.path("description").asText()));
            }
            Tables.print(out(), List.of("FAMILY", "PROTO", "EXTERNAL", "INTERNAL", "REMOTE", "KIND", "ORIGIN", "OWNER", "LEFT",
                    "ENABLED", "RX", "TX", "DESCRIPTION"), rows);
            long pinholes = rows.stream().filter(row -> row.get(0).equals("ipv6")).count();
            out().println(rows.size() + " mapping" + (rows.size() == 1 ? "" : "s")
                    + (pinholes > 0 ? " (" + pinholes + " IPv6 pinhole" + (pinholes == 1 ? "" : "s") + ", EXTERNAL is the host itself, #id)" : ""));
            if (rows.stream().anyMatch(row -> row.get(10).startsWith("~"))) {
                out().println("~ approximate: spliced TCP is counted in 64 KiB chunks (natgw leases --json gives the bound)");
            }
        }
    }

    @Command(name = "map", mixinStandardHelpOptions = true, description = "Add or delete a static mapping.",
            subcommands = {MapAdd.class, MapDelete.class})
    static final class MapCommand implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: add or delete");
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {"Add a static mapping, e.g. natgw map add tcp 8080 192.168.77.10:80 --description web",
                    "An IPv6 INTERNAL opens a static IPv6 pinhole to it (no translation: the port is the internal port),"
                            + " e.g. natgw map add tcp 8080 [fd00:77::10]:8080; only linux-gateway mode with kernel forwarding"
                            + " forwards pinholes, otherwise the daemon refuses and nothing is added."})
    static final class MapAdd extends CliCommand {
        @Parameters(index = "0", paramLabel = "PROTOCOL", description = "tcp or udp")
        String protocol;
        @Parameters(index = "1", paramLabel = "EXTERNAL_PORT", description = "1-65535 (a pinhole's: its internal port)")
        int externalPort;
        @Parameters(index = "2", paramLabel = "INTERNAL", description = "ADDRESS[:PORT] (port defaults to EXTERNAL_PORT; IPv6 as [fd00:77::10]:80)")
        String internal;
        @Option(names = {"-d", "--description"}, description = "free text (what uninstallers match on)")
        String description;
        @Option(names = "--disabled", description = "keep it in the table without forwarding")
        boolean disabled;
        @Option(names = "--remote-host", paramLabel = "IP", description = "admit only this remote host")
        String remoteHost;

        @Override
        void run() throws CliException {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("protocol", protocol);
            body.put("externalPort", externalPort);
            String address = internal;
            int colon = internal.lastIndexOf(':');
            if (internal.startsWith("[")) {
                int close = internal.indexOf(']');
                address = internal.substring(1, Math.max(1, close));
                if (close > 0 && close + 1 < internal.length() && internal.charAt(close + 1) == ':') {
                    body.put("internalPort", port(internal.substring(close + 2)));
                }
            } else if (colon > 0 && internal.indexOf(':') == colon) {
                address = internal.substring(0, colon);
                body.put("internalPort", port(internal.substring(colon + 1)));
            }
            body.put("internalAddress", address);
            if (description != null) {
                body.put("description", description);
            }
            body.put("enabled", !disabled);
            if (remoteHost != null) {
                body.put("remoteHost", remoteHost);
            }
            JsonNode m = daemon.client().post("/api/v1/mappings", body);
            JsonNode old = m.path("replaced");
            if (!old.isMissingNode()) {
                out().println("replaced " + describe(old));
            }
            out().println((m.hasNonNull("pinholeId") ? "opened pinhole " + m.path("pinholeId").asText() + " " : "mapped ") + describe(m));
        }

        private static String describe(JsonNode m) {
            String d = m.path("description").asText("");
            if (m.hasNonNull("pinholeId")) {
                return m.path("protocol").asText() + " to " + m.path("internal").asText() + (d.isEmpty() ? "" : " '" + d + "'")
                        + " (" + m.path("kind").asText("static") + (m.path("enabled").asBoolean() ? "" : ", disabled") + ")";
            }
            return m.path("protocol").asText() + " " + m.path("external").asText() + " -> " + m.path("internal").asText()
                    + (d.isEmpty() ? "" : " '" + d + "'") + " (" + m.path("kind").asText("static")
                    + (m.path("enabled").asBoolean() ? "" : ", disabled") + ")";
        }

        private Object port(String text) throws CliException {
            try {
                return Integer.parseInt(text);
            } catch (NumberFormatException e) {
                return text; // the daemon names the field and what it accepts
            }
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = {"Delete any mapping by protocol and external port,",
                    "or an IPv6 pinhole by protocol, port and --host, e.g. natgw map delete tcp 8080 --host fd00:77::10."})
    static final class MapDelete extends CliCommand {
        @Parameters(index = "0", paramLabel = "PROTOCOL", description = "tcp or udp")
        String protocol;
        @Parameters(index = "1", paramLabel = "EXTERNAL_PORT", description = "the external port (a pinhole's: its port)")
        String externalPort;
        @Option(names = "--remote", paramLabel = "ADDRESS/PREFIX", description = "the remote filter of the mapping, if it has one")
        String remote;
        @Option(names = "--host", paramLabel = "IPV6", description = "close the IPv6 pinhole to this host (its internal address)")
        String host;

        @Override
        void run() throws CliException {
            List<String> query = new ArrayList<>();
            if (host != null) {
                String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
                query.add("host=" + enc(h));
            }
            if (remote != null) {
                query.add("remote=" + enc(remote));
            }
            String path = "/api/v1/mappings/" + enc(protocol) + "/" + enc(externalPort) + (query.isEmpty() ? "" : "?" + String.join("&", query));
            JsonNode r = daemon.client().delete(path);
            for (JsonNode m : r.path("mappings")) {
                out().println(m.hasNonNull("pinholeId")
                        ? "closed pinhole " + m.path("pinholeId").asText() + " " + m.path("protocol").asText() + " to " + m.path("internal").asText()
                        : "deleted " + m.path("protocol").asText() + " " + m.path("external").asText() + " -> " + m.path("internal").asText());
            }
        }
    }

    @Command(name = "unmap", mixinStandardHelpOptions = true,
            description = "Delete every mapping with this description, or of this owner (for uninstallers). Deleting none is not an error.")
    static final class Unmap extends CliCommand {
        static final class Selector {
            @Option(names = "--description", paramLabel = "TEXT", required = true, description = "exactly this description")
            String description;
            @Option(names = "--owner", paramLabel = "IP", required = true, description = "mappings (and IPv6 pinholes) this client address, IPv4 or IPv6, made itself (UPnP, NAT-PMP, PCP); static, admin and triggered ones are kept")
            String owner;
        }

        @ArgGroup(exclusive = true, multiplicity = "1")
        Selector selector;

        @Override
        void run() throws CliException {
            String query = selector.description != null ? "description=" + enc(selector.description) : "owner=" + enc(selector.owner);
            JsonNode r = daemon.client().delete("/api/v1/mappings?" + query);
            for (JsonNode m : r.path("mappings")) {
                out().println((m.hasNonNull("pinholeId") ? "closed pinhole " + m.path("pinholeId").asText() + " " + m.path("protocol").asText()
                        + " to " + m.path("internal").asText() : "deleted " + m.path("protocol").asText() + " " + m.path("external").asText()
                        + " -> " + m.path("internal").asText()) + " (" + m.path("origin").asText() + ", '" + m.path("description").asText() + "')");
            }
            int n = r.path("count").asInt();
            out().println("removed " + n + " mapping" + (n == 1 ? "" : "s"));
        }
    }

    @Command(name = "reload", mixinStandardHelpOptions = true,
            description = {"Make the running daemon re-read its configuration file (the same as SIGHUP).",
                    "The file is validated first: an invalid one changes nothing and its errors are printed as"
                            + " file:line:column (exit 1). Permissions, static mappings, trigger rules, lifetimes and limits"
                            + " apply without dropping other leases; keys that need a restart are named."})
    static final class Reload extends CliCommand {
        @Override
        void run() throws CliException {
            JsonNode r = daemon.client().post("/api/v1/reload", null);
            out().println("reloaded " + r.path("file").asText());
            for (JsonNode c : r.path("changes")) {
                out().println("  " + c.asText());
            }
            for (JsonNode k : r.path("restartNeeded")) {
                out().println("  restart needed: " + k.asText() + " changed (the running value is kept until natgw restarts)");
            }
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Show the gateway's status.")
    static final class Status extends CliCommand {
        @Option(names = "--json", description = "print the API's JSON")
        boolean json;

        @Override
        void run() throws CliException {
            AdminClient c = daemon.client();
            JsonNode s = c.get("/api/v1/status");
            if (json) {
                out().println(s.toPrettyString());
                return;
            }
            out().println("external address  " + s.path("externalAddress").asText());
            if (!s.path("reportedAddress").asText().equals(s.path("externalAddress").asText())) {
                out().println("told to clients   " + s.path("reportedAddress").asText());
            }
            if (s.hasNonNull("stunAddress") || s.hasNonNull("stunProblem")) {
                String problem = s.path("stunProblem").asText();
                out().println("STUN sees         " + (!s.hasNonNull("stunAddress") ? "nothing: " + problem
                        : s.path("stunAddress").asText() + (s.hasNonNull("stunProblem") ? " (last answer; now " + problem + ")" : "")));
            }
            if (s.hasNonNull("externalAddressProblem")) {
                out().println("WARNING           " + s.path("externalAddressProblem").asText());
            }
            out().println("epoch             " + s.path("epochSeconds").asText() + " s (since " + s.path("epochStart").asText() + ")");
            out().println("uptime            " + Tables.duration(s.get("uptimeSeconds")));
            out().println("mappings          " + s.path("mappings").asText()
                    + (s.path("pinholes").asInt() > 0 ? " (" + s.path("pinholes").asText() + " of them IPv6 pinholes)" : ""));
            s.path("counts").fields().forEachRemaining(p -> {
                StringBuilder sb = new StringBuilder();
                p.getValue().fields().forEachRemaining(k -> sb.append(' ').append(k.getKey()).append('=').append(k.getValue().asText()));
                out().println("  " + p.getKey() + "            ".substring(p.getKey().length()) + sb.toString().trim());
            });
            JsonNode t = s.path("traffic");
            out().println("traffic           rx " + bytes(t, "bytesReceived") + " B, tx " + bytes(t, "bytesSent") + " B, "
                    + t.path("sessions").asText() + " sessions"
                    + (t.path("bytesApproximate").asBoolean() ? " (~: may be short by up to " + t.path("bytesUncertainty").asText()
                    + " B each way, spliced TCP is counted in 64 KiB chunks)" : ""));
            out().println("WAN link          " + link(s.path("link")));
            out().println("listeners");
            for (JsonNode l : s.path("listeners")) {
                out().println("  " + l.path("name").asText() + " " + l.path("transport").asText() + " " + l.path("address").asText());
            }
            out().println("web UI            " + c.baseUrl() + "  (natgw ui prints a sign-in link)");
        }
    }

    /** A figure of the link object, or "?" where the kernel did not say. */
    private static String known(JsonNode l, String field) {
        return l.hasNonNull(field) ? l.path(field).asText() : "?";
    }

    /** "eth0 up, 1000 Mbit/s, up for 1h02m05s, rx 12 B (3 packets), tx 34 B (4 packets)", leaving out what is unknown. */
    static String link(JsonNode l) {
        if (l.isMissingNode() || l.isNull()) {
            return "not reported";
        }
        StringBuilder sb = new StringBuilder(l.hasNonNull("interfaceName") ? l.path("interfaceName").asText() + " " : "");
        sb.append(l.path("state").asText());
        if (l.hasNonNull("speedBitsPerSecond")) {
            sb.append(", ").append(l.path("speedBitsPerSecond").asLong() / 1_000_000).append(" Mbit/s");
        }
        if (l.hasNonNull("upSeconds")) {
            sb.append(", up for ").append(Tables.duration(l.get("upSeconds")));
        }
        if (l.hasNonNull("bytesReceived") || l.hasNonNull("bytesSent")) {
            sb.append(", rx ").append(known(l, "bytesReceived")).append(" B (").append(known(l, "packetsReceived"))
                    .append(" packets), tx ").append(known(l, "bytesSent")).append(" B (").append(known(l, "packetsSent"))
                    .append(" packets)");
        }
        if (l.hasNonNull("problem")) {
            sb.append(" (").append(l.path("problem").asText()).append(')');
        }
        return sb.toString();
    }

    @Command(name = "token", mixinStandardHelpOptions = true, description = "Print the admin API's bearer token (from the data directory).")
    static final class Token extends CliCommand {
        @Override
        void run() throws CliException {
            out().println(token(daemon));
        }
    }

    @Command(name = "ui", mixinStandardHelpOptions = true, description = "Print the web UI's address with a one-click sign-in link.")
    static final class Ui extends CliCommand {
        @Override
        void run() throws CliException {
            // the fragment never leaves the browser: the page moves it to sessionStorage and drops it from the address bar
            out().println(AdminEndpoint.baseUrl(daemon.load()) + "#token=" + token(daemon));
        }
    }

    static String token(DaemonOptions daemon) throws CliException {
        try {
            return AdminToken.read(new AdminFiles(daemon.load().dataDir()).token());
        } catch (IOException e) {
            throw new CliException(CliException.AUTH, e.getMessage());
        }
    }

}
