package io.natgw.conf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The shipped conf/natgw.yaml: it loads, has the documented sandbox values, and lists and documents every key. */
class ShippedConfigTest {

    /** The module directory: surefire runs in it; NATGW_REPO (set by the root pom) also finds it. */
    static Path shippedFile() {
        Path here = Path.of("natgw.yaml");
        if (Files.isRegularFile(here)) {
            return here;
        }
        return Path.of(System.getenv("NATGW_REPO"), "conf", "natgw.yaml");
    }

    static String shippedText() throws Exception {
        return Files.readString(shippedFile());
    }

    @Test
    void defaultsHaveTheSandboxValues() throws Exception {
        NatgwConfig c = ConfigLoader.defaults();
        assertEquals(ConfigLoader.DEFAULTS_SOURCE, c.source());
        assertEquals(new NatgwConfig.Network(List.of(ip("127.0.0.1")), List.of(Cidr.parse("127.0.0.0/24")), List.of(),
                ip("127.0.1.1"), false, "", true, null), c.network());
        assertEquals(Path.of("data").toAbsolutePath(), c.dataDir());
        assertEquals(new NatgwConfig.Pcp(true, 5351, new NatgwConfig.Lifetimes(Duration.ofSeconds(120), Duration.ofSeconds(86400)),
                false, List.of(), 50, true), c.pcp());
        assertEquals(new NatgwConfig.Upnp(true, 5000, true, Duration.ofSeconds(604800), Duration.ofSeconds(604800), "natgw"),
                c.upnp());
        assertEquals(new NatgwConfig.Admin(true, List.of(ip("127.0.0.1")), 8443, false), c.admin());
        assertEquals(new NatgwConfig.Limits(true, 64, NatgwConfig.Limits.AUTO, 256, 24, 64), c.limits());
        assertEquals(List.of(PermissionRule.parse("allow 1024-65535 0.0.0.0/0 1024-65535"),
                PermissionRule.parse("deny 0-65535 0.0.0.0/0 0-65535"),
                PermissionRule.parse("allow 1024-65535 ::/0 1024-65535"),
                PermissionRule.parse("deny 0-65535 ::/0 0-65535")), c.permissions());
        assertEquals(List.of(), c.staticMappings());
        assertEquals(List.of(new TriggerRule("IRC IDENT", Set.of(Protocol.TCP), PortRanges.parse("6660-7000"),
                Set.of(Protocol.TCP), PortRanges.parse("113"), Duration.ofSeconds(300), true)), c.triggers());
        assertEquals(new NatgwConfig.Dataplane(true, NatgwConfig.DataplaneMode.USERSPACE, NatgwConfig.RelayMode.COPY,
                Duration.ofSeconds(5), Duration.ofSeconds(120), 256, false), c.dataplane());
        assertEquals(Set.of(5351, 5350, 1900, 5000, 8443), c.servicePorts());
    }

    @Test
    void theFileOnDiskIsTheEmbeddedDefaults() throws Exception {
        NatgwConfig fromDisk = ConfigLoader.load(shippedFile());
        assertEquals(shippedFile(), fromDisk.source());
        assertEquals(withSource(ConfigLoader.defaults(), shippedFile()), fromDisk);
    }

    @Test
    void anEmptyFileIsTheSandboxWithoutTriggersAndWithoutAllowPrivate() throws Exception {
        NatgwConfig d = ConfigLoader.defaults();
        NatgwConfig.Network n = d.network();
        NatgwConfig.Network strict = new NatgwConfig.Network(n.lanAddresses(), n.lanClients(), n.lanInterfaces(),
                n.wanAddress(), n.wanAuto(), n.wanInterface(), false, null);
        NatgwConfig expected = new NatgwConfig(Path.of("empty.yaml"), strict, d.dataDir(), d.pcp(), d.upnp(), d.admin(),
                d.limits(), d.permissions(), List.of(), List.of(), d.dataplane());
        assertEquals(expected, ConfigLoader.parse("", Path.of("empty.yaml")));
        assertEquals(expected, ConfigLoader.parse("# only a comment\n", Path.of("empty.yaml")));
    }

    /** Every key the loader reads is set in the shipped file, and the file sets nothing else. */
    @Test
    void everyKeyIsInTheShippedFile() throws Exception {
        String text = shippedText();
        Set<String> present = new TreeSet<>();
        collectKeys(YamlTree.parse(text, new Problems(shippedFile())), "", present);
        assertEquals(ConfigLoader.keysRead(text), present);
        assertTrue(present.containsAll(Set.of("network.wan.address", "triggers[].timeout", "dataplane.cutOnDelete")), present.toString());
    }

    /** Each key that has a value is preceded by its comment (keys of list items are described above the list). */
    @Test
    void everyKeyIsDocumented() throws Exception {
        List<String> lines = shippedText().lines().toList();
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
                continue; // inside a list item
            }
            itemIndent = -1;
            boolean leafKey = trimmed.matches("[A-Za-z]+: *\\S.*");
            if (leafKey && !lines.get(i - 1).trim().startsWith("#")) {
                undocumented.add((i + 1) + ": " + trimmed);
            }
        }
        assertEquals(List.of(), undocumented);
    }

    /** Key paths as the loader names them: {@code pcp.port}, {@code triggers[].name}. */
    private static void collectKeys(Node node, String path, Set<String> out) {
        if (node instanceof Node.Mapping m) {
            m.entries().forEach((k, e) -> {
                String p = path.isEmpty() ? k : path + "." + k;
                out.add(p);
                collectKeys(e.value(), p, out);
            });
        } else if (node instanceof Node.Sequence s) {
            s.items().forEach(item -> collectKeys(item, path + "[]", out));
        }
    }

    static NatgwConfig withSource(NatgwConfig c, Path source) {
        return new NatgwConfig(source, c.network(), c.dataDir(), c.pcp(), c.upnp(), c.admin(), c.limits(), c.permissions(),
                c.staticMappings(), c.triggers(), c.dataplane());
    }

    static InetAddress ip(String literal) {
        return Addresses.parseLiteral(literal);
    }
}
