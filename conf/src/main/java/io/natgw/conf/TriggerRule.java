package io.natgw.conf;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

/**
 * A port-triggering rule: an outbound flow from a LAN host to one of {@code triggerPorts} over one of
 * {@code triggerProtocols} opens {@code incomingPorts} over {@code incomingProtocols} to that host until
 * {@code timeout} passes without trigger or incoming traffic. One host holds a rule's ports at a time.
 */
public record TriggerRule(String name, Set<Protocol> triggerProtocols, PortRanges triggerPorts,
                          Set<Protocol> incomingProtocols, PortRanges incomingPorts, Duration timeout, boolean enabled) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(300);

    public TriggerRule {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a trigger rule needs a name");
        }
        if (triggerProtocols.isEmpty() || incomingProtocols.isEmpty()) {
            throw new IllegalArgumentException("trigger rule '" + name + "' needs a protocol (accepted: tcp, udp, both)");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("trigger rule '" + name + "' timeout " + timeout.toSeconds()
                    + " s is not positive (accepted: 1 s or more)");
        }
        triggerProtocols = Set.copyOf(triggerProtocols);
        incomingProtocols = Set.copyOf(incomingProtocols);
    }

    /** Parses {@code tcp}, {@code udp} or {@code both}. */
    public static Set<Protocol> parseProtocols(String text) {
        if (text != null && text.trim().equalsIgnoreCase("both")) {
            return EnumSet.allOf(Protocol.class);
        }
        try {
            return EnumSet.of(Protocol.parse(text));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not a protocol (accepted: tcp, udp, both)");
        }
    }

    /** Whether the two rules would fight over a flow or a port: same trigger or incoming ports on a shared protocol. */
    public boolean overlaps(TriggerRule other) {
        boolean trig = intersects(triggerProtocols, other.triggerProtocols) && triggerPorts.overlaps(other.triggerPorts);
        boolean inc = intersects(incomingProtocols, other.incomingProtocols) && incomingPorts.overlaps(other.incomingPorts);
        return trig || inc;
    }

    private static boolean intersects(Set<Protocol> a, Set<Protocol> b) {
        for (Protocol p : a) {
            if (b.contains(p)) {
                return true;
            }
        }
        return false;
    }

    public TriggerRule withEnabled(boolean on) {
        return new TriggerRule(name, triggerProtocols, triggerPorts, incomingProtocols, incomingPorts, timeout, on);
    }
}
