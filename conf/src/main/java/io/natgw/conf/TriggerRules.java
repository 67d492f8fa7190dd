package io.natgw.conf;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** Reading one trigger rule (from the file or an admin request) and finding rules that conflict. */
final class TriggerRules {

    static final int MAX_NAME_LENGTH = 64;

    private TriggerRules() {
    }

    /**
     * Two rules {@code first < second} (list indexes) that cannot both be in force. The message is
     * {@code before + where + after}, where {@code where} may locate the first rule (e.g. " at line 12").
     */
    record Conflict(int first, int second, String before, String after) {
        String message(String where) {
            return before + where + after;
        }
    }

    /** The rule in {@code s}, or null when it has errors (reported to the section's problems). */
    static TriggerRule read(Section s, Problems problems) {
        int before = problems.count();
        String name = s.required("name", "a unique name such as \"IRC IDENT\"").isPresent() ? s.text("name", "") : null;
        if (name != null && (name.isBlank() || name.length() > MAX_NAME_LENGTH || name.chars().anyMatch(Character::isISOControl))) {
            s.error("name", "'" + name + "' is not a rule name (accepted: 1-" + MAX_NAME_LENGTH
                    + " printable characters, e.g. \"IRC IDENT\")");
        }
        Set<Protocol> triggerProtocols = s.parsed("triggerProtocol", EnumSet.of(Protocol.TCP), TriggerRule::parseProtocols);
        PortRanges triggerPorts = ports(s, "triggerPorts", "the ports whose outbound use triggers the rule, e.g. 6660-7000");
        Set<Protocol> incomingProtocols = s.parsed("incomingProtocol", EnumSet.of(Protocol.TCP), TriggerRule::parseProtocols);
        PortRanges incomingPorts = ports(s, "incomingPorts", "the ports opened to the triggering host, e.g. 113");
        Duration timeout = s.seconds("timeout", TriggerRule.DEFAULT_TIMEOUT.toSeconds(), 1, Section.UNBOUNDED);
        boolean enabled = s.bool("enabled", true);
        if (problems.count() != before) {
            return null;
        }
        return new TriggerRule(name.trim(), triggerProtocols, triggerPorts, incomingProtocols, incomingPorts, timeout, enabled);
    }

    private static PortRanges ports(Section s, String key, String accepted) {
        if (s.required(key, accepted).isEmpty()) {
            return PortRanges.ALL;
        }
        return s.parsed(key, PortRanges.ALL, PortRanges::parse);
    }

    /**
     * Rules that share a name (any case), and enabled rules that would fight over a flow or a port: trigger
     * ports overlapping on a shared trigger protocol, or incoming ports overlapping on a shared incoming protocol.
     */
    static List<Conflict> conflicts(List<TriggerRule> rules) {
        List<Conflict> out = new ArrayList<>();
        Map<String, Integer> byName = new HashMap<>();
        for (int j = 0; j < rules.size(); j++) {
            TriggerRule b = rules.get(j);
            Integer i = byName.putIfAbsent(b.name().toLowerCase(Locale.ROOT), j);
            if (i != null) {
                out.add(new Conflict(i, j, "trigger rule name '" + b.name() + "' is already used by rule '"
                        + rules.get(i).name() + "'", " (accepted: a unique name per rule, in any case)"));
            }
            for (int k = 0; k < j; k++) {
                TriggerRule a = rules.get(k);
                if (a.enabled() && b.enabled() && a.overlaps(b)) {
                    out.add(overlap(k, a, j, b));
                }
            }
        }
        return out;
    }

    private static Conflict overlap(int i, TriggerRule a, int j, TriggerRule b) {
        String trig = sharedPorts(a.triggerProtocols(), a.triggerPorts(), b.triggerProtocols(), b.triggerPorts());
        String shared = trig != null ? "both trigger on " + trig
                : "both open incoming " + sharedPorts(a.incomingProtocols(), a.incomingPorts(), b.incomingProtocols(),
                        b.incomingPorts());
        return new Conflict(i, j, "trigger rule '" + b.name() + "' overlaps trigger rule '" + a.name() + "'",
                ": " + shared + " (accepted: enabled rules whose trigger ports and incoming ports do not overlap)");
    }

    /** e.g. {@code tcp 6667-6669}, the first shared port range on the shared protocols; null when none. */
    private static String sharedPorts(Set<Protocol> pa, PortRanges ra, Set<Protocol> pb, PortRanges rb) {
        String protocols = EnumSet.copyOf(pa).stream().filter(pb::contains).map(Protocol::label)
                .collect(Collectors.joining("/"));
        if (protocols.isEmpty()) {
            return null;
        }
        for (PortRange x : ra.ranges()) {
            for (PortRange y : rb.ranges()) {
                if (x.overlaps(y)) {
                    return protocols + " " + new PortRange(Math.max(x.first(), y.first()), Math.min(x.last(), y.last()));
                }
            }
        }
        return null;
    }
}
