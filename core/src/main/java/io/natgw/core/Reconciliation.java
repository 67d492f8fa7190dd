package io.natgw.core;

import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import io.natgw.conf.StaticMapping;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the table holds that the configuration in force no longer allows (at start, after the journal is
 * restored, and after a reload): static mappings of the configuration file that the file does not list any
 * more, and leases the current rules refuse (the never-map-to-itself rule, LAN clients, secure mode and third
 * parties, permission rules, the gateway's own ports, per-client and per-subnet quotas, the table's size).
 * Pure decisions over a snapshot of rows; the table removes what this names through its one funnel.
 */
final class Reconciliation {

    private Reconciliation() {
    }

    /**
     * The configuration's static mappings that {@code config} does not list as they are: gone from the file, or
     * changed there in a way the table could not follow (the file's new entry was refused), so that the old row
     * would go on forwarding somewhere the file no longer says. Run after the file's entries are applied.
     */
    static List<Mapping> staleStatic(NatgwConfig config, List<Mapping> rows) {
        List<Mapping> out = new ArrayList<>();
        for (Mapping m : rows) {
            if (m.owner().origin() == Origin.CONFIG && !listed(config, m)) {
                out.add(m);
            }
        }
        return out;
    }

    private static boolean listed(NatgwConfig config, Mapping m) {
        if (!m.remote().isAny()) {
            return false;
        }
        for (StaticMapping s : config.staticMappings()) {
            if (s.protocol() == m.protocol() && s.externalPort() == m.externalPort()
                    && s.internalAddress().equals(m.internal().address()) && s.internalPort() == m.internal().port()
                    && s.enabled() == m.enabled()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Rows the policy now refuses, each with the reason, in listing order. Static rows of the configuration are
     * left to {@link #staleStatic} and the re-applied file; triggered rows follow their trigger rules. Quotas
     * keep the oldest leases and refuse the newest ones beyond the limit.
     */
    static Map<Mapping, String> refused(Policy policy, List<Mapping> rows) {
        Map<Mapping, String> out = new LinkedHashMap<>();
        List<Mapping> kept = new ArrayList<>();
        for (Mapping m : rows) {
            if (m.owner().origin() == Origin.CONFIG || m.owner().origin() == Origin.TRIGGER) {
                continue;
            }
            String why = ruleRefusal(policy, m);
            if (why != null) {
                out.put(m, why);
            } else {
                kept.add(m);
            }
        }
        kept.sort(Comparator.comparing(Mapping::createdAt));
        Map<InetAddress, Integer> perClient = new HashMap<>();
        Map<Cidr, Integer> perSubnet = new HashMap<>();
        int total = (int) rows.stream().filter(m -> m.owner().origin() == Origin.CONFIG
                || m.owner().origin() == Origin.TRIGGER).count();
        for (Mapping m : kept) {
            Owner who = m.owner();
            if (m.kind() == Kind.DYNAMIC && !who.privileged()) {
                int n = perClient.merge(who.address(), 1, Integer::sum);
                if (n > policy.perClientQuota()) {
                    out.put(m, "client " + who.address().getHostAddress() + " holds more than its quota of "
                            + policy.perClientQuota() + " mappings (limits.perClientQuota)");
                    perClient.merge(who.address(), -1, Integer::sum);
                    continue;
                }
                Cidr subnet = policy.subnetOf(who.address());
                int s = perSubnet.merge(subnet, 1, Integer::sum);
                if (s > policy.perSubnetQuota()) {
                    out.put(m, "client subnet " + subnet + " holds more than its quota of " + policy.perSubnetQuota()
                            + " mappings (limits.perSubnetQuota)");
                    perClient.merge(who.address(), -1, Integer::sum);
                    perSubnet.merge(subnet, -1, Integer::sum);
                    continue;
                }
            }
            if (++total > policy.maxMappings()) {
                out.put(m, "the table holds more than its limit of " + policy.maxMappings() + " mappings (limits.maxMappings)");
                total--;
            }
        }
        return out;
    }

    /** Why the rules refuse this row as if it were asked for now, or null. */
    private static String ruleRefusal(Policy policy, Mapping m) {
        Owner who = m.owner();
        boolean thirdParty = !m.internal().address().equals(who.address());
        MappingRequest.Map asked = new MappingRequest.Map(who, m.protocol(), m.internal(), m.externalPort(), m.remote(),
                java.time.Duration.ZERO, m.kind(), m.description(), m.nonce(), MappingRequest.OnConflict.FAIL,
                m.enabled(), thirdParty);
        String denied = policy.checkInternalAddress(asked);
        if (denied != null) {
            return denied;
        }
        if (m.pinhole() && policy.gatewayAddress(m.internal().address())) {
            return m.internal().address().getHostAddress() + " is one of the gateway's own addresses";
        }
        if (!m.pinhole() && policy.isServicePort(m.externalPort())) { // a pinhole's port is on the LAN host
            return m.protocol().label() + " port " + m.externalPort() + " is used by the gateway itself";
        }
        if (!policy.permitted(who, m.externalPort(), m.internal())) {
            return "permission rules deny external port " + m.externalPort() + " to " + m.internal();
        }
        return null;
    }
}
