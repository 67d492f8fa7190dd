package io.natgw.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.natgw.conf.NatgwConfig;
import io.natgw.conf.ConfigLoader;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The Debian package's files in packaging/deb agree with the code: the router example /etc/natgw/natgw.yaml loads, is a
 * router (linux-gateway, /var/lib/natgw) and sets and documents exactly the keys of conf/natgw.yaml; the man page lists
 * exactly the CLI's commands. (packaging/ci-check.sh builds, installs and runs the package itself.)
 */
class PackagingTest {

    static Path repo() {
        String r = System.getenv("NATGW_REPO");
        return r != null ? Path.of(r) : Path.of("..").toAbsolutePath().normalize();
    }

    static Path deb(String file) {
        return repo().resolve("packaging").resolve("deb").resolve(file);
    }

    @Test
    void theRouterExampleLoadsAsARouterInLinuxGatewayMode() throws Exception {
        NatgwConfig c = ConfigLoader.load(deb("natgw.yaml"));
        assertEquals(NatgwConfig.DataplaneMode.LINUX_GATEWAY, c.dataplane().mode());
        assertEquals(Path.of("/var/lib/natgw"), c.dataDir());
        assertEquals(List.of(InetAddress.getByName("192.168.77.1")), c.network().lanAddresses());
        assertEquals(List.of("eth1"), c.network().lanInterfaces());
        assertEquals("eth0", c.network().wanInterface());
        assertEquals(List.of(InetAddress.getByName("127.0.0.1")), c.admin().addresses());
    }

    /** When a key is added to conf/natgw.yaml, the router example must gain it too (and lose removed ones). */
    @Test
    void theRouterExampleSetsEveryKeyOfTheShippedConfig() throws Exception {
        Set<String> shipped = keys(repo().resolve("conf").resolve("natgw.yaml"));
        Set<String> router = keys(deb("natgw.yaml"));
        Set<String> missing = new TreeSet<>(shipped);
        missing.removeAll(router);
        Set<String> extra = new TreeSet<>(router);
        extra.removeAll(shipped);
        assertEquals("", (missing.isEmpty() ? "" : "packaging/deb/natgw.yaml lacks " + missing + " (copy them, with their comments, "
                + "from conf/natgw.yaml) ") + (extra.isEmpty() ? "" : "packaging/deb/natgw.yaml has keys conf/natgw.yaml lacks " + extra));
    }

    /** Each key with a value has its comment on the line above (keys of list items are described above the list). */
    @Test
    void everyKeyOfTheRouterExampleIsDocumented() throws Exception {
        List<String> lines = Files.readAllLines(deb("natgw.yaml"));
        List<String> undocumented = new ArrayList<>();
        int itemIndent = -1;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            String trimmed = line.trim();
            int indent = line.length() - line.stripLeading().length();
            if (trimmed.startsWith("- ")) {
                itemIndent = indent;
                continue;
            }
            if (itemIndent >= 0 && indent > itemIndent && !trimmed.isEmpty()) {
                continue;
            }
            itemIndent = -1;
            if (trimmed.matches("[A-Za-z]+: *\\S.*") && !lines.get(i - 1).trim().startsWith("#")) {
                undocumented.add((i + 1) + ": " + trimmed);
            }
        }
        assertEquals(List.of(), undocumented);
    }

    @Test
    void theManPageDescribesEveryCommandOfTheCli() throws Exception {
        Set<String> documented = new TreeSet<>();
        List<String> lines = Files.readAllLines(deb("natgw.8"));
        Pattern command = Pattern.compile("^\\.BI? \"?([a-z-]+)");
        boolean inCommands = false;
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).startsWith(".SH")) {
                inCommands = lines.get(i).equals(".SH COMMANDS");
            }
            Matcher m = command.matcher(lines.get(i));
            if (inCommands && lines.get(i - 1).equals(".TP") && m.find()) {
                documented.add(m.group(1));
            }
        }
        assertEquals(new TreeSet<>(Main.commandLine().getSubcommands().keySet()), documented);
    }

    /** Key paths: {@code pcp.port}, {@code triggers[].name}. */
    private static Set<String> keys(Path yaml) throws Exception {
        Set<String> out = new TreeSet<>();
        collect(new ObjectMapper(new YAMLFactory()).readTree(yaml.toFile()), "", out);
        return out;
    }

    private static void collect(JsonNode node, String path, Set<String> out) {
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> {
                String p = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
                out.add(p);
                collect(e.getValue(), p, out);
            });
        } else if (node.isArray()) {
            node.forEach(item -> collect(item, path + "[]", out));
        }
    }
}
