package io.natgw.conf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The relay budgets under {@code dataplane:}: defaults, values read, and errors naming the key and the range. */
class RelayBudgetsConfigTest {

    private static final Path FILE = Path.of("t.yaml");

    @Test
    void defaultsWhenAbsent() throws ConfigException {
        NatgwConfig c = ConfigLoader.parse("dataplane:\n  enabled: true\n", FILE);
        assertEquals(new NatgwConfig.RelayBudgets(4000, 1000, 200, 2000), c.dataplane().budgets());
    }

    @Test
    void readsEachKey() throws ConfigException {
        NatgwConfig c = ConfigLoader.parse("""
                dataplane:
                  tcpConnections: 30
                  tcpConnectionsPerMapping: 20
                  tcpConnectionsPerPeer: 10
                  udpSessions: 40
                """, FILE);
        assertEquals(new NatgwConfig.RelayBudgets(30, 20, 10, 40), c.dataplane().budgets());
    }

    @Test
    void outOfRangeOrWrongTypeNamesTheKeyAndWhatIsAccepted() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("""
                dataplane:
                  tcpConnections: 0
                  tcpConnectionsPerMapping: many
                  tcpConnectionsPerPeer: 2000000
                  udpSessions: -1
                """, FILE));
        assertEquals(List.of(
                "t.yaml:2:19: dataplane.tcpConnections: 0 is out of range (accepted: 1-1000000)",
                "t.yaml:3:29: dataplane.tcpConnectionsPerMapping: 'many' is not an integer (accepted: 1-1000000)",
                "t.yaml:4:26: dataplane.tcpConnectionsPerPeer: 2000000 is out of range (accepted: 1-1000000)",
                "t.yaml:5:16: dataplane.udpSessions: -1 is out of range (accepted: 1-1000000)"),
                e.errors().stream().map(ConfigError::toString).toList());
    }
}
