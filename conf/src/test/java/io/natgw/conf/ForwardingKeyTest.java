package io.natgw.conf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code dataplane.forwarding} (issue 12): kernel by default, relay on request, anything else named with its line. */
class ForwardingKeyTest {

    private static final Path FILE = Path.of("t.yaml");
    private static final String GATEWAY = """
            network:
              lan: { addresses: [192.168.77.1], interfaces: [eth1] }
              wan: { address: 203.0.113.1, interface: eth0 }
            dataplane:
              mode: linux-gateway
            """;

    @Test
    void linuxGatewayModeForwardsInTheKernelUnlessRelayIsChosen() throws ConfigException {
        NatgwConfig.Dataplane byDefault = ConfigLoader.parse(GATEWAY, FILE).dataplane();
        assertEquals(NatgwConfig.Forwarding.KERNEL, byDefault.forwarding());
        assertTrue(byDefault.kernelForwarding());

        NatgwConfig.Dataplane relay = ConfigLoader.parse(GATEWAY + "  forwarding: relay\n", FILE).dataplane();
        assertEquals(NatgwConfig.Forwarding.RELAY, relay.forwarding());
        assertFalse(relay.kernelForwarding());

        assertFalse(ConfigLoader.parse("dataplane:\n  forwarding: kernel\n", FILE).dataplane().kernelForwarding(),
                "userspace mode always relays");
    }

    @Test
    void anUnknownForwardingIsRefusedWithItsPlaceAndTheChoices() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(GATEWAY + "  forwarding: nat\n", FILE));
        assertEquals(List.of("t.yaml:6:15: dataplane.forwarding: 'nat' is not one of the choices (accepted: kernel, relay)"),
                e.errors().stream().map(ConfigError::toString).toList());
    }
}
