package io.natgw.conf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code dataplane.ipv6Firewall} (issue 14): on by default, off on request, anything but a boolean named with its line. */
class Ipv6FirewallKeyTest {

    private static final Path FILE = Path.of("t.yaml");
    private static final String GATEWAY = """
            network:
              lan: { addresses: [192.168.77.1], interfaces: [eth1] }
              wan: { address: 203.0.113.1, interface: eth0 }
            dataplane:
              mode: linux-gateway
            """;

    @Test
    void theIpv6FirewallIsOnUnlessTurnedOff() throws ConfigException {
        assertTrue(ConfigLoader.parse(GATEWAY, FILE).dataplane().ipv6Firewall());
        assertFalse(ConfigLoader.parse(GATEWAY + "  ipv6Firewall: false\n", FILE).dataplane().ipv6Firewall());
    }

    @Test
    void aNonBooleanIsRefusedWithItsPlace() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(GATEWAY + "  ipv6Firewall: sometimes\n", FILE));
        List<String> errors = e.errors().stream().map(ConfigError::toString).toList();
        assertEquals(1, errors.size(), errors.toString());
        assertTrue(errors.get(0).startsWith("t.yaml:6:17: dataplane.ipv6Firewall: ")
                && errors.get(0).endsWith("(accepted: true, false)"), errors.toString());
    }
}
