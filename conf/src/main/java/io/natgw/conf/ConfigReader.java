package io.natgw.conf;

import java.net.InetAddress;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link NatgwConfig} from a parsed document, one method per section, collecting every error. The
 * defaults used for absent keys are the values of the shipped {@code conf/natgw.yaml}, where each is documented.
 */
final class ConfigReader {

    static final InetAddress LOOPBACK = Addresses.parseLiteral("127.0.0.1");
    static final Cidr LOOPBACK_NET = Cidr.parse("127.0.0.0/24");
    static final InetAddress SANDBOX_WAN = Addresses.parseLiteral("127.0.1.1");
    /** A rule's CIDR matches its own family only, so the default has the same two rules for IPv6 pinholes. */
    static final List<PermissionRule> DEFAULT_PERMISSIONS = List.of(
            PermissionRule.parse("allow 1024-65535 0.0.0.0/0 1024-65535"),
            PermissionRule.parse("deny 0-65535 0.0.0.0/0 0-65535"),
            PermissionRule.parse("allow 1024-65535 ::/0 1024-65535"),
            PermissionRule.parse("deny 0-65535 ::/0 0-65535"));
    /** RFC 4787 REQ-5: a UDP mapping timer must not expire in less than two minutes. */
    static final long MIN_UDP_IDLE_SECONDS = 120;
    static final long MAX_UPNP_LEASE_SECONDS = 604800;
    static final long MAX_PCP_LIFETIME_SECONDS = 0xFFFF_FFFFL; // the wire field is 32 bits
    static final int MAX_FRIENDLY_NAME = 64; // UPnP Device Architecture: friendlyName should be < 64 characters

    private final Problems problems;
    /** The staticMappings entries to IPv6 hosts (static pinholes): they need kernel forwarding. */
    private final List<Section> staticPinholes = new ArrayList<>();

    ConfigReader(Problems problems) {
        this.problems = problems;
    }

    NatgwConfig read(Node root, Path source) throws ConfigException {
        Section top = Section.root(problems, root);
        NatgwConfig.Network network = network(top.section("network"));
        Path dataDir = dataDir(top);
        NatgwConfig.Pcp pcp = pcp(top.section("pcp"));
        NatgwConfig.Upnp upnp = upnp(top.section("upnp"));
        NatgwConfig.Admin admin = admin(top.section("admin"), upnp);
        NatgwConfig.Limits limits = limits(top.section("limits"));
        List<PermissionRule> permissions = top.list("permissions", DEFAULT_PERMISSIONS, PermissionRule::parse,
                "[\"allow 1024-65535 192.168.77.0/24 1024-65535\", \"deny 0-65535 0.0.0.0/0 0-65535\"]", null);
        List<StaticMapping> staticMappings = staticMappings(top, network, pcp, upnp, admin);
        List<TriggerRule> triggers = triggers(top);
        NatgwConfig.Dataplane dataplane = dataplane(top.section("dataplane"), network);
        if (!dataplane.kernelForwarding()) {
            for (Section s : staticPinholes) {
                s.error("internalAddress", s.text("internalAddress", "") + " is IPv6: a static pinhole needs"
                        + " dataplane.mode linux-gateway with dataplane.forwarding kernel (accepted: an IPv4 LAN host,"
                        + " or that mode)");
            }
        }
        problems.finish();
        return new NatgwConfig(source, network, dataDir, pcp, upnp, admin, limits, permissions, staticMappings, triggers,
                dataplane);
    }

    private NatgwConfig.Network network(Section s) {
        Section lan = s.section("lan");
        List<InetAddress> lanAddresses = lan.list("addresses", List.of(LOOPBACK), Addresses::parseLanAddress,
                "[192.168.77.1, fd00:77::1]",
                "no address (accepted: at least one LAN address to listen on, e.g. [192.168.77.1, fd00:77::1])");
        List<Cidr> lanClients = lan.list("clients", List.of(LOOPBACK_NET), Addresses::parseClientNetwork,
                "[192.168.77.0/24, fd00:77::/64]",
                "no client network (accepted: at least one CIDR block, e.g. [192.168.77.0/24, fd00:77::/64])");
        List<String> lanInterfaces = lan.list("interfaces", List.of(), ConfigReader::interfaceName, "[eth1]", null);
        Section wan = s.section("wan");
        WanAddress wanAddress = wan.parsed("address", new WanAddress(SANDBOX_WAN, false), ConfigReader::wanAddress);
        String wanInterface = wan.parsed("interface", "", t -> t.isEmpty() ? t : interfaceName(t));
        if (wanAddress.auto() && !wanInterface.isEmpty()) {
            // auto with a WAN interface: that interface's address (the LAN side's may come first in the host's list)
            WanAddress any = wanAddress;
            wanAddress = Addresses.firstIpv4Of(wanInterface, a -> lanClients.stream().noneMatch(c -> c.contains(a)))
                    .map(a -> new WanAddress(a, true)).orElse(any);
        }
        for (Cidr c : lanClients) {
            if (!wanAddress.auto() && c.contains(wanAddress.address())) {
                wan.error("address", wanAddress.address().getHostAddress() + " is inside network.lan.clients block " + c
                        + " (accepted: an external address outside every LAN client network, e.g. 127.0.1.1 with"
                        + " clients [127.0.0.0/24], or 203.0.113.1 with [192.168.77.0/24])");
                break;
            }
        }
        boolean allowPrivate = wan.bool("allowPrivate", false);
        InetAddress reported = wan.parsed("reportedAddress", null, t -> t.isBlank() ? null : Addresses.parseLiteral(t));
        for (Cidr c : lanClients) {
            if (reported != null && c.contains(reported)) {
                wan.error("reportedAddress", reported.getHostAddress() + " is inside network.lan.clients block " + c
                        + " (accepted: \"\", or the public address clients are told, e.g. 198.51.100.7)");
                break;
            }
        }
        java.net.InetSocketAddress stun = wan.parsed("stun", null, ConfigReader::stunServer);
        Duration stunRetry = wan.seconds("stunRetry", NatgwConfig.Network.STUN_RETRY.toSeconds(), 1,
                NatgwConfig.Network.STUN_RETRY_CAP.toSeconds());
        Duration stunRefresh = wan.seconds("stunRefresh", NatgwConfig.Network.STUN_REFRESH.toSeconds(), 60, 86400);
        return new NatgwConfig.Network(lanAddresses, lanClients, lanInterfaces, wanAddress.address(), wanAddress.auto(),
                wanInterface, allowPrivate, reported, stun, stunRetry, stunRefresh);
    }

    /** "" (none), or IP:PORT ([IPv6]:PORT); host names are never resolved. */
    private static java.net.InetSocketAddress stunServer(String text) {
        String t = text.trim();
        if (t.isEmpty()) {
            return null;
        }
        int colon = t.lastIndexOf(':');
        String host = colon > 0 ? t.substring(0, colon) : "";
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            int port = Integer.parseInt(t.substring(colon + 1));
            if (colon <= 0 || port < 1 || port > 65535 || (host.contains(":") && !t.startsWith("["))) {
                throw new IllegalArgumentException();
            }
            return new java.net.InetSocketAddress(Addresses.parseLiteral(host), port);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not a STUN server (accepted: \"\", or IP:PORT such as"
                    + " 203.0.113.9:3478 or [2001:db8::9]:3478; host names are never resolved)");
        }
    }

    private record WanAddress(InetAddress address, boolean auto) {
    }

    /** {@code auto}: the host's first non-loopback IPv4 address, else 127.0.0.1; otherwise an IP literal. */
    private static WanAddress wanAddress(String text) {
        if (text.trim().equalsIgnoreCase("auto")) {
            return new WanAddress(Addresses.firstNonLoopbackIpv4(), true);
        }
        try {
            return new WanAddress(Addresses.parseLiteral(text), false);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is neither 'auto' nor an IP address literal (accepted: auto,"
                    + " or an address such as 203.0.113.1; host names are never resolved)");
        }
    }

    /** A Linux interface name: 1-15 characters, no blank, '/' or ':'. */
    static String interfaceName(String text) {
        if (!text.matches("[^\\s/:]{1,15}")) {
            throw new IllegalArgumentException("'" + text + "' is not an interface name (accepted: 1-15 characters"
                    + " without spaces, '/' or ':', e.g. eth0)");
        }
        return text;
    }

    /** Relative to the working directory the gateway is started in. */
    private Path dataDir(Section top) {
        String text = top.text("dataDir", "data");
        if (text.isBlank()) {
            top.error("dataDir", "no value (accepted: a directory path, e.g. data or /var/lib/natgw)");
            return Path.of("data").toAbsolutePath();
        }
        try {
            return Path.of(text).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            top.error("dataDir", "'" + text + "' is not a path (" + e.getReason() + "; accepted: e.g. data or /var/lib/natgw)");
            return Path.of("data").toAbsolutePath();
        }
    }

    private NatgwConfig.Pcp pcp(Section s) {
        boolean enabled = s.bool("enabled", true);
        int port = s.port("port", 5351);
        Duration min = s.seconds("minLifetime", 120, 1, MAX_PCP_LIFETIME_SECONDS);
        Duration max = s.seconds("maxLifetime", 86400, 1, MAX_PCP_LIFETIME_SECONDS);
        if (min.compareTo(max) > 0) {
            s.error("minLifetime", min.toSeconds() + " is more than pcp.maxLifetime " + max.toSeconds()
                    + " (accepted: minLifetime <= maxLifetime)");
            min = max;
        }
        boolean strictNonce = s.bool("strictNonce", false);
        List<Cidr> thirdParty = s.list("thirdPartyClients", List.of(), Addresses::parseClientNetwork,
                "[192.168.77.10/32, fd00:77::10/128]", null);
        int rate = s.integer("rateLimitPerSecond", 50, 1, 1_000_000);
        boolean announce = s.bool("announce", true);
        return new NatgwConfig.Pcp(enabled, port, new NatgwConfig.Lifetimes(min, max), strictNonce, thirdParty, rate, announce);
    }

    private NatgwConfig.Upnp upnp(Section s) {
        boolean enabled = s.bool("enabled", true);
        int httpPort = s.port("httpPort", 5000);
        boolean ssdp = s.bool("ssdp", true);
        Duration zero = s.seconds("v1ZeroLease", MAX_UPNP_LEASE_SECONDS, 1, MAX_UPNP_LEASE_SECONDS);
        Duration max = s.seconds("maxLease", MAX_UPNP_LEASE_SECONDS, 1, MAX_UPNP_LEASE_SECONDS);
        if (zero.compareTo(max) > 0) {
            s.error("v1ZeroLease", zero.toSeconds() + " is more than upnp.maxLease " + max.toSeconds()
                    + " (accepted: v1ZeroLease <= maxLease)");
        }
        String name = s.text("friendlyName", "natgw");
        if (name.isBlank() || name.length() > MAX_FRIENDLY_NAME || name.chars().anyMatch(Character::isISOControl)) {
            s.error("friendlyName", "'" + name + "' is not a device name (accepted: 1-" + MAX_FRIENDLY_NAME
                    + " printable characters)");
        }
        String udn = s.parsed("udn", "", ConfigReader::udn);
        String manufacturer = identityString(s, "manufacturer", NatgwConfig.Upnp.DEFAULT_MANUFACTURER, false);
        String modelName = identityString(s, "modelName", NatgwConfig.Upnp.DEFAULT_MODEL_NAME, false);
        String serial = identityString(s, "serialNumber", "", true);
        return new NatgwConfig.Upnp(enabled, httpPort, ssdp, zero, max, name, udn, manufacturer, modelName, serial);
    }

    /** "" (generated), or a UUID with or without the {@code uuid:} prefix; kept in its canonical lower-case form. */
    private static String udn(String text) {
        String t = text.trim();
        if (t.isEmpty()) {
            return "";
        }
        String bare = t.regionMatches(true, 0, "uuid:", 0, 5) ? t.substring(5) : t;
        if (!bare.matches("[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")) {
            throw new IllegalArgumentException("'" + text + "' is not a UUID (accepted: \"\" to generate one, or e.g."
                    + " 5f3c2a9e-1b7d-4c8e-9a6f-2d4b8e1c7a30)");
        }
        return bare.toLowerCase(java.util.Locale.ROOT);
    }

    /** A description string: up to 64 printable characters (UDA: "should be < 64 characters"). */
    private static String identityString(Section s, String key, String dflt, boolean mayBeEmpty) {
        String v = s.text(key, dflt);
        if ((!mayBeEmpty && v.isBlank()) || v.length() > MAX_FRIENDLY_NAME || v.chars().anyMatch(Character::isISOControl)) {
            s.error(key, "'" + v + "' is not accepted (accepted: " + (mayBeEmpty ? "0" : "1") + "-" + MAX_FRIENDLY_NAME
                    + " printable characters)");
            return dflt;
        }
        return v;
    }

    private NatgwConfig.Admin admin(Section s, NatgwConfig.Upnp upnp) {
        boolean enabled = s.bool("enabled", true);
        List<InetAddress> addresses = s.list("addresses", List.of(LOOPBACK), Addresses::parseLiteral, "[127.0.0.1]",
                enabled ? "no address (accepted: at least one address to listen on while admin is enabled, e.g. [127.0.0.1])"
                        : null);
        int port = s.port("port", 8443);
        if (enabled && upnp.enabled() && port == upnp.httpPort()) { // both are TCP servers on the LAN side
            s.error("port", port + " is also upnp.httpPort (accepted: a TCP port other than " + upnp.httpPort() + ")");
        }
        boolean plainHttp = s.bool("plainHttp", false);
        if (plainHttp) {
            for (InetAddress a : addresses) {
                if (!a.isLoopbackAddress()) {
                    s.error("plainHttp", "true is refused because admin address " + a.getHostAddress() + " is not loopback"
                            + " (accepted: false, or plain HTTP with loopback addresses only such as 127.0.0.1 or ::1)");
                    break;
                }
            }
        }
        return new NatgwConfig.Admin(enabled, addresses, port, plainHttp);
    }

    private NatgwConfig.Limits limits(Section s) {
        boolean secureMode = s.bool("secureMode", true);
        int quota = s.integer("perClientQuota", 64, 1, Section.UNBOUNDED);
        int subnetQuota = s.integer("perSubnetQuota", NatgwConfig.Limits.DEFAULT_PER_SUBNET_QUOTA, 1, Section.UNBOUNDED);
        int prefix = s.integer("subnetPrefixLength", 24, 0, 32);
        int prefix6 = s.integer("subnetPrefixLengthV6", 64, 0, 128);
        int max = s.parsed("maxMappings", NatgwConfig.Limits.AUTO, ConfigReader::maxMappings);
        return new NatgwConfig.Limits(secureMode, quota, max, subnetQuota, prefix, prefix6);
    }

    /** {@code auto} (derived from the open-files limit at start) or a count of 1 or more. */
    private static int maxMappings(String text) {
        String t = text.trim();
        if (t.equalsIgnoreCase("auto")) {
            return NatgwConfig.Limits.AUTO;
        }
        if (t.matches("\\d{1,10}") && Long.parseLong(t) >= 1 && Long.parseLong(t) <= Integer.MAX_VALUE) {
            return Integer.parseInt(t);
        }
        throw new IllegalArgumentException("'" + text + "' is not a mapping count (accepted: auto, or 1-"
                + Integer.MAX_VALUE + ")");
    }

    private List<StaticMapping> staticMappings(Section top, NatgwConfig.Network network, NatgwConfig.Pcp pcp,
                                               NatgwConfig.Upnp upnp, NatgwConfig.Admin admin) {
        Map<String, Section> byKey = new HashMap<>();
        List<StaticMapping> out = new ArrayList<>();
        for (Section s : top.sections("staticMappings")) {
            int before = problems.count();
            Protocol protocol = s.required("protocol", "tcp or udp").isPresent()
                    ? s.parsed("protocol", Protocol.TCP, Protocol::parse) : Protocol.TCP;
            int external = s.required("externalPort", "1-65535").isPresent() ? s.port("externalPort", 1) : 1;
            InetAddress internal = s.required("internalAddress", "the LAN host's IP address, e.g. 192.168.77.10").isPresent()
                    ? s.parsed("internalAddress", LOOPBACK, Addresses::parseLiteral) : LOOPBACK;
            int internalPort = s.port("internalPort", external);
            String description = s.text("description", "");
            boolean enabled = s.bool("enabled", true);
            if (problems.count() != before) {
                continue;
            }
            if (internal instanceof java.net.Inet6Address) {
                if (staticPinholeProblem(s, internal, external, internalPort)) {
                    continue;
                }
                staticPinholes.add(s); // the dataplane, read later, must forward pinholes
            }
            if (!network.isLanClient(internal)) {
                s.error("internalAddress", internal.getHostAddress() + " is not a LAN client (accepted: an address inside"
                        + " network.lan.clients: " + network.lanClients() + ")");
            } else {
                String self = OwnSockets.check(network, pcp, upnp, admin, protocol, internal, internalPort);
                if (self != null) {
                    s.error(s.has("internalPort") ? "internalPort" : "internalAddress", self
                            + " (accepted: a LAN host's service, never one of the gateway's own)");
                }
            }
            String key = protocol.label() + " " + external;
            Section first = byKey.putIfAbsent(key, s);
            if (first != null) {
                s.error("externalPort", key + " is already mapped by " + first.path() + " at line " + first.loc().line()
                        + " (accepted: one static mapping per protocol and external port)");
                continue;
            }
            out.add(new StaticMapping(protocol, external, internal, internalPort, description, enabled));
        }
        return out;
    }

    /**
     * A static mapping to an IPv6 host is a static pinhole: no translation (the external port is the internal one) and
     * a global or unique-local host (and, checked once the dataplane is read, a dataplane that forwards pinholes).
     * Says what is wrong; true if anything is.
     */
    private static boolean staticPinholeProblem(Section s, InetAddress internal, int external, int internalPort) {
        if (internal.isLinkLocalAddress() || internal.isMulticastAddress() || internal.isLoopbackAddress()
                || internal.isAnyLocalAddress()) {
            s.error("internalAddress", internal.getHostAddress() + " is not a host a pinhole can open to (accepted: a"
                    + " global or unique-local IPv6 unicast address, e.g. fd00:77::10)");
            return true;
        }
        if (external != internalPort) {
            s.error("internalPort", internalPort + " differs from externalPort " + external + ": a static mapping to an"
                    + " IPv6 host is a pinhole, which translates nothing (accepted: internalPort " + external
                    + ", or no internalPort)");
            return true;
        }
        return false;
    }

    private List<TriggerRule> triggers(Section top) {
        List<TriggerRule> rules = new ArrayList<>();
        List<Section> from = new ArrayList<>();
        for (Section s : top.sections("triggers")) {
            TriggerRule rule = TriggerRules.read(s, problems);
            if (rule != null) {
                rules.add(rule);
                from.add(s);
            }
        }
        for (TriggerRules.Conflict c : TriggerRules.conflicts(rules)) {
            Section first = from.get(c.first());
            from.get(c.second()).error(c.message(" (" + first.path() + " at line " + first.loc().line() + ")"));
        }
        return rules;
    }

    private NatgwConfig.Dataplane dataplane(Section s, NatgwConfig.Network network) {
        boolean enabled = s.bool("enabled", true);
        Map<String, NatgwConfig.DataplaneMode> modes = new LinkedHashMap<>();
        modes.put("userspace", NatgwConfig.DataplaneMode.USERSPACE);
        modes.put("linux-gateway", NatgwConfig.DataplaneMode.LINUX_GATEWAY);
        NatgwConfig.DataplaneMode mode = s.choice("mode", NatgwConfig.DataplaneMode.USERSPACE, modes);
        if (mode == NatgwConfig.DataplaneMode.LINUX_GATEWAY
                && (network.wanInterface().isEmpty() || network.lanInterfaces().isEmpty())) {
            s.error("mode", "linux-gateway needs network.wan.interface and network.lan.interfaces (accepted: userspace,"
                    + " or linux-gateway with the interfaces named, e.g. wan interface: eth0, lan interfaces: [eth1])");
        }
        Map<String, NatgwConfig.RelayMode> relays = new LinkedHashMap<>();
        relays.put("copy", NatgwConfig.RelayMode.COPY);
        relays.put("splice", NatgwConfig.RelayMode.SPLICE);
        NatgwConfig.RelayMode relay = s.choice("relay", NatgwConfig.RelayMode.COPY, relays);
        Duration connect = s.seconds("connectTimeout", 5, 1, 3600);
        Duration udpIdle = s.seconds("udpIdleTimeout", MIN_UDP_IDLE_SECONDS, MIN_UDP_IDLE_SECONDS, Section.UNBOUNDED);
        int sessions = s.integer("udpSessionsPerMapping", 256, 1, 1_000_000);
        boolean cut = s.bool("cutOnDelete", false);
        NatgwConfig.RelayBudgets d = NatgwConfig.RelayBudgets.DEFAULTS;
        NatgwConfig.RelayBudgets budgets = new NatgwConfig.RelayBudgets(
                s.integer("tcpConnections", d.tcpConnections(), 1, 1_000_000),
                s.integer("tcpConnectionsPerMapping", d.tcpConnectionsPerMapping(), 1, 1_000_000),
                s.integer("tcpConnectionsPerPeer", d.tcpConnectionsPerPeer(), 1, 1_000_000),
                s.integer("udpSessions", d.udpSessions(), 1, 1_000_000));
        Map<String, NatgwConfig.Forwarding> forwardings = new LinkedHashMap<>();
        forwardings.put("kernel", NatgwConfig.Forwarding.KERNEL);
        forwardings.put("relay", NatgwConfig.Forwarding.RELAY);
        NatgwConfig.Forwarding forwarding = s.choice("forwarding", NatgwConfig.Forwarding.KERNEL, forwardings);
        boolean ipv6Firewall = s.bool("ipv6Firewall", true);
        return new NatgwConfig.Dataplane(enabled, mode, relay, connect, udpIdle, sessions, cut, budgets, forwarding,
                ipv6Firewall);
    }
}
