package io.natgw.gateway;

import io.natgw.conf.NatgwConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a reload adopts from a freshly loaded (and validated) configuration. Rules, limits, lifetimes, static
 * mappings and trigger rules apply at once; the keys that live in bound sockets or in the table's layout keep
 * their running values until a restart, and are named (the list is documented in {@code conf/natgw.yaml}):
 * <ul>
 *   <li>{@code network.*} (LAN addresses and clients, WAN address and interfaces), {@code dataDir},
 *       {@code admin.*}, {@code dataplane.*};</li>
 *   <li>{@code pcp.enabled}, {@code pcp.port}, {@code pcp.announce}, {@code pcp.rateLimitPerSecond} (the other
 *       {@code pcp} keys apply);</li>
 *   <li>{@code upnp.enabled}, {@code upnp.httpPort}, {@code upnp.ssdp}, {@code upnp.friendlyName} and the other
 *       keys of the IGD's identity: while any of them differs the whole {@code upnp} section is kept (its lease
 *       bounds included);</li>
 *   <li>{@code limits.subnetPrefixLength}, {@code limits.subnetPrefixLengthV6} (the other limits apply).</li>
 * </ul>
 */
final class ConfigReload {

    /** The configuration the daemon runs with from now on, and the keys whose new values wait for a restart. */
    record Adopted(NatgwConfig config, List<String> restartNeeded) {
    }

    private ConfigReload() {
    }

    /**
     * {@code next} with the running WAN address when both say {@code auto}: what auto resolves to now is the WAN
     * watcher's business (it may have followed a change), not a key changed in the file.
     */
    static NatgwConfig.Network sameAutoAddress(NatgwConfig.Network running, NatgwConfig.Network next) {
        if (!running.wanAuto() || !next.wanAuto()) {
            return next;
        }
        return new NatgwConfig.Network(next.lanAddresses(), next.lanClients(), next.lanInterfaces(), running.wanAddress(),
                true, next.wanInterface(), next.allowPrivate(), next.reportedAddress(), next.stun(),
                next.stunRetry(), next.stunRefresh());
    }

    static Adopted adopt(NatgwConfig running, NatgwConfig next) {
        List<String> restart = new ArrayList<>();
        NatgwConfig.Network network = running.network();
        if (!network.equals(sameAutoAddress(network, next.network()))) {
            restart.add("network");
        }
        if (!running.dataDir().toAbsolutePath().normalize().equals(next.dataDir().toAbsolutePath().normalize())) {
            restart.add("dataDir");
        }
        NatgwConfig.Admin admin = running.admin();
        if (!admin.equals(next.admin())) {
            restart.add("admin");
        }
        NatgwConfig.Dataplane dataplane = running.dataplane();
        if (!dataplane.equals(next.dataplane())) {
            restart.add("dataplane");
        }

        NatgwConfig.Pcp was = running.pcp();
        NatgwConfig.Pcp now = next.pcp();
        differs(restart, "pcp.enabled", was.enabled(), now.enabled());
        differs(restart, "pcp.port", was.port(), now.port());
        differs(restart, "pcp.announce", was.announce(), now.announce());
        differs(restart, "pcp.rateLimitPerSecond", was.rateLimitPerSecond(), now.rateLimitPerSecond());
        NatgwConfig.Pcp pcp = new NatgwConfig.Pcp(was.enabled(), was.port(), now.lifetimes(), now.strictNonce(),
                now.thirdPartyClients(), was.rateLimitPerSecond(), was.announce());

        NatgwConfig.Upnp upnp = next.upnp();
        if (!sameUpnpListeners(running.upnp(), next.upnp())) {
            restart.add("upnp (listener or identity keys; the section keeps its running values)");
            upnp = running.upnp();
        }

        NatgwConfig.Limits lw = running.limits();
        NatgwConfig.Limits ln = next.limits();
        differs(restart, "limits.subnetPrefixLength", lw.subnetPrefixLength(), ln.subnetPrefixLength());
        differs(restart, "limits.subnetPrefixLengthV6", lw.subnetPrefixLengthV6(), ln.subnetPrefixLengthV6());
        NatgwConfig.Limits limits = new NatgwConfig.Limits(ln.secureMode(), ln.perClientQuota(), ln.maxMappings(),
                ln.perSubnetQuota(), lw.subnetPrefixLength(), lw.subnetPrefixLengthV6());

        NatgwConfig adopted = new NatgwConfig(next.source(), network, running.dataDir(), pcp, upnp, admin, limits,
                next.permissions(), next.staticMappings(), next.triggers(), dataplane);
        return new Adopted(adopted, restart);
    }

    /**
     * The UPnP section differs in nothing but its lease bounds (which apply at once). Compared on the record's text
     * with the two bounds blanked, so that any other key of the section, present or added later, counts as one that
     * needs a restart.
     */
    private static boolean sameUpnpListeners(NatgwConfig.Upnp a, NatgwConfig.Upnp b) {
        if (a.equals(b)) {
            return true;
        }
        return a.enabled() == b.enabled() && a.httpPort() == b.httpPort() && a.ssdp() == b.ssdp()
                && Objects.equals(a.friendlyName(), b.friendlyName())
                && a.toString().replace(a.v1ZeroLease().toString(), "").replace(a.maxLease().toString(), "")
                        .equals(b.toString().replace(b.v1ZeroLease().toString(), "").replace(b.maxLease().toString(), ""));
    }

    private static void differs(List<String> restart, String key, Object was, Object now) {
        if (!Objects.equals(was, now)) {
            restart.add(key);
        }
    }
}
