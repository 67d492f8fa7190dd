package io.natgw.dataplane;

import io.natgw.conf.PortRanges;
import io.natgw.conf.Protocol;
import io.natgw.conf.TriggerRule;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DivertRulesetTest {

    @Test
    void divertsEnabledTriggerPortsFromLanInterfacesOnlyAndReplacesAStaleTable() {
        TriggerRule irc = new TriggerRule("IRC IDENT", EnumSet.of(Protocol.TCP), PortRanges.parse("6660-7000"),
                EnumSet.of(Protocol.TCP), PortRanges.parse("113"), Duration.ofSeconds(300), true);
        TriggerRule game = new TriggerRule("Battle.net", EnumSet.allOf(Protocol.class), PortRanges.parse("6112"),
                EnumSet.allOf(Protocol.class), PortRanges.parse("6112"), Duration.ofSeconds(300), true);
        TriggerRule off = new TriggerRule("Off", EnumSet.of(Protocol.UDP), PortRanges.parse("9000"),
                EnumSet.of(Protocol.UDP), PortRanges.parse("9001"), Duration.ofSeconds(300), false);

        String script = TransparentDivert.ruleset(List.of("veth-lan", "wlan0"), List.of(irc, game, off), 40000, 40001);

        assertEquals("""
                table inet natgw {}
                delete table inet natgw
                table inet natgw {
                  comment "natgw tproxy divert"
                  chain divert {
                    type filter hook prerouting priority mangle; policy accept;
                    meta nfproto ipv4 iifname { "veth-lan", "wlan0" } fib daddr type != local tcp dport { 6660-7000, 6112 } tproxy ip to :40000 meta mark set 1 accept
                    meta nfproto ipv4 iifname { "veth-lan", "wlan0" } fib daddr type != local udp dport { 6112 } tproxy ip to :40001 meta mark set 1 accept
                  }
                }
                """, script);
    }
}
