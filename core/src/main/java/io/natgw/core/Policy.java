package io.natgw.core;

import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import io.natgw.conf.PermissionRule;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Who may map what: secure mode, third parties, permission rules, quotas and lifetime bounds. Pure
 * decisions over the configuration; the table asks, and alone acts on the answers.
 */
final class Policy {

    // Replaced together by a reload (reconfigure); each decision reads the fields once.
    private volatile NatgwConfig config;
    private volatile Set<Integer> servicePorts;

    private volatile int maxMappings;
    /** The external address now (an admin or the WAN may change it after start). */
    private final Supplier<InetAddress> externalAddress;

    Policy(NatgwConfig config, int maxMappings, Supplier<InetAddress> externalAddress) {
        this.config = config;
        this.maxMappings = maxMappings;
        this.externalAddress = externalAddress;
        this.servicePorts = Set.copyOf(config.servicePorts());
    }

    /** A reload: the rules, limits and lifetimes of {@code next} apply to every request from now on. */
    void reconfigure(NatgwConfig next, int nextMaxMappings) {
        this.servicePorts = Set.copyOf(next.servicePorts());
        this.maxMappings = nextMaxMappings;
        this.config = next;
    }

    /**
     * Secure mode (miniupnpd's secure_mode, RFC 6887 §13.1 THIRD_PARTY): a client maps only to its own address,
     * unless it is privileged or a configured third-party client. With secure mode off, any client may map to
     * any host (as miniupnpd with secure_mode=no), whichever front-end it came through.
     * Returns null when allowed, else the reason.
     */
    String checkInternalAddress(MappingRequest.Map r) {
        NatgwConfig config = this.config;
        Owner who = r.requester();
        InetAddress target = r.internal().address();
        if (target.isAnyLocalAddress() || target.isMulticastAddress()) {
            return "internal address " + target.getHostAddress() + " is not a host address";
        }
        if (target.equals(externalAddress.get())) {
            return target.getHostAddress() + ":" + r.internal().port() + " is on the gateway's external address (a mapping"
                    + " to it would loop back into the gateway); the gateway never maps to itself";
        }
        String self = config.selfMapping(r.protocol(), target, r.internal().port());
        if (self != null) {
            return self + "; the gateway never maps to itself";
        }
        // One rule for every origin, admins and the configuration included: the gateway relays only into its LAN.
        if (!config.network().isLanClient(target)) {
            return "internal address " + target.getHostAddress() + " is not a LAN client (accepted: an address inside"
                    + " network.lan.clients " + config.network().lanClients() + ")";
        }
        if (who.privileged() || target.equals(who.address())) {
            return null;
        }
        for (Cidr c : config.pcp().thirdPartyClients()) {
            if (c.contains(who.address())) {
                return null; // an authorized third-party client (PCP THIRD_PARTY, RFC 6887 §13.1)
            }
        }
        if (!config.limits().secureMode()) {
            return null;
        }
        if (r.thirdParty()) {
            return "client " + who.address().getHostAddress() + " is not allowed to map for third parties";
        }
        return "secure mode: client " + who.address().getHostAddress() + " may map only to itself, not to "
                + target.getHostAddress();
    }

    /** Whether {@code a} is one of the gateway's own LAN or admin addresses (a pinhole never opens to the gateway). */
    boolean gatewayAddress(InetAddress a) {
        NatgwConfig config = this.config;
        return config.network().lanAddresses().contains(a) || config.admin().addresses().contains(a);
    }

    /** Permission rules, first match wins, no match allows (miniupnpd). Admin, config and trigger rules are exempt. */
    boolean permitted(Owner who, int externalPort, Endpoint internal) {
        if (who.privileged() || who.origin() == Origin.TRIGGER) {
            return true;
        }
        return PermissionRule.permits(config.permissions(), externalPort, internal.address(), internal.port());
    }

    /** The gateway's own ports are never handed out. */
    boolean isServicePort(int port) {
        return servicePorts.contains(port);
    }

    int perClientQuota() {
        return config.limits().perClientQuota();
    }

    int maxMappings() {
        return maxMappings;
    }

    int perSubnetQuota() {
        return config.limits().perSubnetQuota();
    }

    Cidr subnetOf(InetAddress client) {
        return config.limits().subnetOf(client);
    }

    boolean strictNonce() {
        return config.pcp().strictNonce();
    }

    /** The lease actually granted for a requested one (RFC 6886 §3.3, RFC 6887 §15: the server may shorten or lengthen it). */
    Duration clampLifetime(Origin origin, Duration requested) {
        switch (origin) {
            case NATPMP:
            case PCP: {
                NatgwConfig.Lifetimes b = config.pcp().lifetimes();
                return clamp(requested, b.min(), b.max());
            }
            case UPNP: {
                Duration r = requested.isZero() ? config.upnp().v1ZeroLease() : requested;
                return clamp(r, Duration.ofSeconds(1), config.upnp().maxLease());
            }
            default:
                return requested.isZero() || requested.isNegative() ? Duration.ofSeconds(1) : requested;
        }
    }

    private static Duration clamp(Duration d, Duration min, Duration max) {
        if (d.compareTo(min) < 0) {
            return min;
        }
        return d.compareTo(max) > 0 ? max : d;
    }
}
