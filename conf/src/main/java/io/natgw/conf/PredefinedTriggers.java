package io.natgw.conf;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Well-known port-triggering services that home routers ship as presets, offered by the web UI. Only entries
 * whose ports are documented by the service are listed. They do not overlap, so any of them can be enabled
 * together ({@link ConfigLoader#validateTriggerRules(List)} accepts the whole list).
 */
public final class PredefinedTriggers {

    private static final Set<Protocol> TCP = EnumSet.of(Protocol.TCP);
    private static final Set<Protocol> UDP = EnumSet.of(Protocol.UDP);
    private static final Set<Protocol> BOTH = EnumSet.allOf(Protocol.class);

    private static final List<TriggerRule> ALL = List.of(
            // IRC servers listen on 6660-7000 (6667 most often) and query the client's ident server (RFC 1413: tcp 113).
            rule("IRC IDENT", TCP, "6660-7000", TCP, "113"),
            // Microsoft DirectPlay (DirectX 7-9 games, MSN Gaming Zone): session setup on tcp 47624,
            // game traffic on tcp and udp 2300-2400.
            rule("DirectPlay", TCP, "47624", BOTH, "2300-2400"),
            // Blizzard Battle.net (StarCraft, Diablo II, Warcraft III): tcp and udp 6112.
            rule("Battle.net", BOTH, "6112", BOTH, "6112"),
            // id Software servers' default ports: Quake II udp 27910, Quake III Arena udp 27960.
            rule("Quake II", UDP, "27910", UDP, "27910"),
            rule("Quake III Arena", UDP, "27960", UDP, "27960"));

    private PredefinedTriggers() {
    }

    /** The presets, each enabled with the default 300 s inactivity timeout. */
    public static List<TriggerRule> all() {
        return ALL;
    }

    private static TriggerRule rule(String name, Set<Protocol> triggerProtocols, String triggerPorts,
                                    Set<Protocol> incomingProtocols, String incomingPorts) {
        return new TriggerRule(name, triggerProtocols, PortRanges.parse(triggerPorts), incomingProtocols,
                PortRanges.parse(incomingPorts), TriggerRule.DEFAULT_TIMEOUT, true);
    }
}
