package io.natgw.conf;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;

/**
 * One permission rule in miniupnpd's shape: {@code allow|deny EXT_PORTS CIDR INT_PORTS}. The rules are
 * checked in order and the first that matches decides; when none matches, the request is allowed
 * (as in miniupnpd).
 */
public record PermissionRule(Action action, PortRanges externalPorts, Cidr internalAddresses, PortRanges internalPorts) {

    public enum Action { ALLOW, DENY }

    /** Parses {@code allow 1024-65535 192.168.77.0/24 1024-65535}. */
    public static PermissionRule parse(String text) {
        String[] words = text == null ? new String[0] : text.trim().split("\\s+");
        if (words.length != 4) {
            throw new IllegalArgumentException("'" + text + "' is not a permission rule (accepted: 'allow|deny EXT_PORTS CIDR INT_PORTS',"
                    + " e.g. 'allow 1024-65535 192.168.77.0/24 1024-65535')");
        }
        Action action;
        switch (words[0].toLowerCase(Locale.ROOT)) {
            case "allow": action = Action.ALLOW; break;
            case "deny": action = Action.DENY; break;
            default:
                throw new IllegalArgumentException("'" + words[0] + "' in '" + text + "' is not an action (accepted: allow, deny)");
        }
        return new PermissionRule(action, PortRanges.parse(words[1]), Cidr.parse(words[2]), PortRanges.parse(words[3]));
    }

    /** miniupnpd's evaluation: the first rule that matches decides; when none matches, the mapping is allowed. */
    public static boolean permits(List<PermissionRule> rules, int externalPort, InetAddress internalAddress,
                                  int internalPort) {
        for (PermissionRule rule : rules) {
            if (rule.matches(externalPort, internalAddress, internalPort)) {
                return rule.action() == Action.ALLOW;
            }
        }
        return true;
    }

    public boolean matches(int externalPort, InetAddress internalAddress, int internalPort) {
        return externalPorts.contains(externalPort) && internalAddresses.contains(internalAddress)
                && internalPorts.contains(internalPort);
    }

    @Override
    public String toString() {
        return action.name().toLowerCase(Locale.ROOT) + " " + externalPorts + " " + internalAddresses + " " + internalPorts;
    }
}
