package io.natgw.igd;

import org.jupnp.model.meta.LocalDevice;
import org.jupnp.model.meta.LocalService;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which device tree answers an M-SEARCH for a type: a {@code :1} search target (IGD:1, WANDevice:1,
 * WANConnectionDevice:1, WANIPConnection:1 …) gets the IGD:1 tree, {@code :2} or later the IGD:2 tree.
 * Clients split between the two (Windows, nat-upnp: v1 only; libp2p: IGD:2 only), so each sees the version
 * it asked for.
 */
final class SsdpTargets {

    /** One answer: the (embedded) device that has the searched type, and its tree's root for the LOCATION. */
    record Match(LocalDevice device, LocalDevice root) {
    }

    private final LocalDevice v1;
    private final LocalDevice v2;

    SsdpTargets(LocalDevice v1, LocalDevice v2) {
        this.v1 = v1;
        this.v2 = v2;
    }

    private static final java.util.regex.Pattern WELL_FORMED = java.util.regex.Pattern.compile(
            "ssdp:all|upnp:rootdevice|uuid:[A-Za-z0-9-]{1,64}"
                    + "|urn:[A-Za-z0-9.-]{1,64}:(?:device|service):[A-Za-z0-9_-]{1,64}:[0-9]{1,3}");

    /** A search target worth parsing; anything else is dropped before jupnp (which reports each as a violation). */
    static boolean wellFormed(String st) {
        return st != null && WELL_FORMED.matcher(st.trim()).matches();
    }

    List<LocalDevice> roots() {
        return List.of(v1, v2);
    }

    /** The roots an {@code ssdp:all} search is answered with: over IPv6 the IGD:2 one only. */
    List<LocalDevice> roots(boolean ipv6) {
        return ipv6 ? List.of(v2) : roots();
    }

    /**
     * {@code urn:schemas-upnp-org:device:TYPE:V} or {@code urn:schemas-upnp-org:service:TYPE:V}: the devices of
     * the tree for V that carry TYPE at version V or later. Empty for anything else.
     */
    List<Match> match(String searchTarget) {
        return match(searchTarget, false);
    }

    /**
     * As {@link #match(String)}; a search over IPv6 ({@code ipv6}) is answered from the IGD:2 tree whatever version it
     * names (UDA 1.1 §1.3.2: a device answers a search for an earlier version of its type, echoing it): only IGD:2
     * has WANIPv6FirewallControl, and clients such as upnpc search for IGD:1 types even with {@code -6}. The IGD:1
     * tree stays what IPv4 clients find.
     */
    List<Match> match(String searchTarget, boolean ipv6) {
        String[] p = searchTarget.trim().split(":");
        if (p.length != 5 || !p[0].equalsIgnoreCase("urn") || !p[1].equalsIgnoreCase("schemas-upnp-org")) {
            return List.of();
        }
        boolean device = p[2].toLowerCase(Locale.ROOT).equals("device");
        if (!device && !p[2].toLowerCase(Locale.ROOT).equals("service")) {
            return List.of();
        }
        int version;
        try {
            version = Integer.parseInt(p[4]);
        } catch (NumberFormatException e) {
            return List.of();
        }
        if (version < 1) {
            return List.of();
        }
        LocalDevice root = version == 1 && !ipv6 ? v1 : v2;
        List<Match> out = new ArrayList<>();
        collect(root, root, device, p[3], version, out);
        return out;
    }

    private static void collect(LocalDevice d, LocalDevice root, boolean device, String type, int version, List<Match> out) {
        if (device) {
            if (d.getType().getType().equals(type) && d.getType().getVersion() >= version) {
                out.add(new Match(d, root));
            }
        } else {
            for (LocalService<?> s : d.getServices()) {
                if (s.getServiceType().getType().equals(type) && s.getServiceType().getVersion() >= version) {
                    out.add(new Match(d, root));
                    break;
                }
            }
        }
        if (d.getEmbeddedDevices() != null) {
            for (LocalDevice e : d.getEmbeddedDevices()) {
                collect(e, root, device, type, version, out);
            }
        }
    }
}
