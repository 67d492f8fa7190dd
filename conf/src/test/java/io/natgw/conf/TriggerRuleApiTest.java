package io.natgw.conf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the admin API uses: one trigger rule from request fields, overlap checks, and the presets. */
class TriggerRuleApiTest {

    private static Map<String, Object> fields(Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    private static List<String> rejection(Map<String, Object> fields) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parseTriggerRule(fields));
        return e.errors().stream().map(ConfigError::toString).toList();
    }

    @Test
    void parsesARuleLikeTheFileDoes() throws ConfigException {
        TriggerRule r = ConfigLoader.parseTriggerRule(fields("name", "Game", "triggerProtocol", "both", "triggerPorts", "27000-27015",
                "incomingProtocol", "udp", "incomingPorts", 27015, "timeout", 600, "enabled", false));
        assertEquals(new TriggerRule("Game", EnumSet.allOf(Protocol.class), PortRanges.parse("27000-27015"),
                EnumSet.of(Protocol.UDP), PortRanges.parse("27015"), Duration.ofSeconds(600), false), r);
        TriggerRule minimal = ConfigLoader.parseTriggerRule(fields("name", " IRC ", "triggerPorts", "6660-7000", "incomingPorts", "113"));
        assertEquals(new TriggerRule("IRC", EnumSet.of(Protocol.TCP), PortRanges.parse("6660-7000"), EnumSet.of(Protocol.TCP),
                PortRanges.parse("113"), TriggerRule.DEFAULT_TIMEOUT, true), minimal);
    }

    @Test
    void errorsNameTheFieldInsteadOfALine() {
        assertEquals(List.of(
                "triggerProtocol: 'icmp' is not a protocol (accepted: tcp, udp, both)",
                "triggerPorts: '123-456-789' is not a port or a range"
                        + " (accepted: ports 0-65535 and ranges, comma-separated, e.g. '123-456,777-789')",
                "missing key 'incomingPorts' (accepted: the ports opened to the triggering host, e.g. 113)",
                "timeout: 0 is out of range (accepted: 1 second or more)",
                "enabled: 'yes' is not a boolean (accepted: true, false)",
                "colour: unknown key (accepted: name, triggerProtocol, triggerPorts, incomingProtocol, incomingPorts, timeout,"
                        + " enabled)"),
                rejection(fields("name", "x", "triggerProtocol", "icmp", "triggerPorts", "123-456-789", "timeout", 0,
                        "enabled", "yes", "colour", "red")));
        assertEquals(List.of(
                "name: '' is not a rule name (accepted: 1-64 printable characters, e.g. \"IRC IDENT\")",
                "timeout: '2.5' is not an integer (accepted: 1 second or more)"),
                rejection(fields("name", "", "triggerPorts", 1, "incomingPorts", 2, "timeout", 2.5)));
    }

    @Test
    void overlapChecksNameBothRules() throws ConfigException {
        List<TriggerRule> rules = new ArrayList<>(ConfigLoader.defaults().triggers());
        assertEquals(List.of(), ConfigLoader.validateTriggerRules(rules));
        rules.add(ConfigLoader.parseTriggerRule(fields("name", "DCC", "triggerPorts", "6667", "incomingPorts", "1024-5000")));
        rules.add(ConfigLoader.parseTriggerRule(fields("name", "ident-udp", "triggerProtocol", "udp", "triggerPorts", "6667",
                "incomingProtocol", "both", "incomingPorts", "113")));
        rules.add(ConfigLoader.parseTriggerRule(fields("name", "irc ident", "triggerPorts", "1", "incomingPorts", "2",
                "enabled", false)));
        String accepted = " (accepted: enabled rules whose trigger ports and incoming ports do not overlap)";
        assertEquals(List.of(
                "trigger rule 'DCC' overlaps trigger rule 'IRC IDENT': both trigger on tcp 6667" + accepted,
                "trigger rule 'ident-udp' overlaps trigger rule 'IRC IDENT': both open incoming tcp 113" + accepted,
                "trigger rule name 'irc ident' is already used by rule 'IRC IDENT' (accepted: a unique name per rule, in any case)"),
                ConfigLoader.validateTriggerRules(rules));
    }

    @Test
    void presetsAreValidAndCanAllBeEnabledTogether() {
        List<TriggerRule> presets = PredefinedTriggers.all();
        assertEquals(List.of(), ConfigLoader.validateTriggerRules(presets));
        TriggerRule irc = presets.get(0);
        assertEquals(ConfigLoader.defaults().triggers().get(0), irc, "the shipped rule is the IRC IDENT preset");
        assertEquals(List.of("IRC IDENT", "DirectPlay", "Battle.net", "Quake II", "Quake III Arena"),
                presets.stream().map(TriggerRule::name).toList());
        TriggerRule directPlay = presets.get(1);
        assertEquals(EnumSet.allOf(Protocol.class), directPlay.incomingProtocols());
        assertEquals(PortRanges.parse("2300-2400"), directPlay.incomingPorts());
    }
}
