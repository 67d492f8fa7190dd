package io.natgw.conf;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The whole configuration, as loaded from {@code natgw.yaml} by {@link ConfigLoader}. Immutable; every
 * key is documented in the shipped {@code conf/natgw.yaml}.
 *
 * @param source the file it came from ({@code <defaults>} for the built-in defaults)
 */
public record NatgwConfig(Path source, Network network, Path dataDir, Pcp pcp, Upnp upnp, Admin admin, Limits limits,
                          List<PermissionRule> permissions, List<StaticMapping> staticMappings,
                          List<TriggerRule> triggers, Dataplane dataplane) {

    public NatgwConfig {
        permissions = List.copyOf(permissions);
        staticMappings = List.copyOf(staticMappings);
        triggers = List.copyOf(triggers);
    }

    /**
     * @param lanAddresses  where NAT-PMP/PCP, SSDP, UPnP HTTP listen (LAN side only)
     * @param lanClients    the client networks whose requests are answered; anything else is dropped
     * @param lanInterfaces LAN interface names (linux-gateway mode, SSDP multicast); may be empty
     * @param wanAddress    the external address (resolved: {@code auto} becomes the host's first non-loopback IPv4)
     * @param wanAuto       whether {@code wanAddress} was {@code auto}
     * @param wanInterface  WAN interface name (linux-gateway mode); may be empty
     * @param allowPrivate  report a private, CGNAT or loopback external address to clients as if it were public
     * @param reportedAddress the address told to clients instead of the bind address; null: the bind address
     * @param stun          a STUN server asked for the public address in front of the WAN; null: none
     * @param stunRetry     the first wait before asking {@code stun} again after a round with no answer (it doubles
     *                      up to {@link #STUN_RETRY_CAP}; reset by an answer)
     * @param stunRefresh   how long after an answer {@code stun} is asked again
     */
    public record Network(List<InetAddress> lanAddresses, List<Cidr> lanClients, List<String> lanInterfaces,
                          InetAddress wanAddress, boolean wanAuto, String wanInterface, boolean allowPrivate,
                          InetAddress reportedAddress, java.net.InetSocketAddress stun, Duration stunRetry,
                          Duration stunRefresh) {
        /** network.wan.stunRetry's default. */
        public static final Duration STUN_RETRY = Duration.ofSeconds(1);
        /** The longest wait between two STUN rounds with no answer (and network.wan.stunRetry's largest value). */
        public static final Duration STUN_RETRY_CAP = Duration.ofMinutes(5);
        /** network.wan.stunRefresh's default. */
        public static final Duration STUN_REFRESH = Duration.ofMinutes(15);

        public Network {
            lanAddresses = List.copyOf(lanAddresses);
            lanClients = List.copyOf(lanClients);
            lanInterfaces = List.copyOf(lanInterfaces);
            wanInterface = wanInterface == null ? "" : wanInterface;
            stunRetry = stunRetry == null ? STUN_RETRY : stunRetry;
            stunRefresh = stunRefresh == null ? STUN_REFRESH : stunRefresh;
        }

        /** With the default STUN retry and refresh times. */
        public Network(List<InetAddress> lanAddresses, List<Cidr> lanClients, List<String> lanInterfaces,
                       InetAddress wanAddress, boolean wanAuto, String wanInterface, boolean allowPrivate,
                       InetAddress reportedAddress, java.net.InetSocketAddress stun) {
            this(lanAddresses, lanClients, lanInterfaces, wanAddress, wanAuto, wanInterface, allowPrivate,
                    reportedAddress, stun, STUN_RETRY, STUN_REFRESH);
        }

        /** Without a STUN server. */
        public Network(List<InetAddress> lanAddresses, List<Cidr> lanClients, List<String> lanInterfaces,
                       InetAddress wanAddress, boolean wanAuto, String wanInterface, boolean allowPrivate,
                       InetAddress reportedAddress) {
            this(lanAddresses, lanClients, lanInterfaces, wanAddress, wanAuto, wanInterface, allowPrivate,
                    reportedAddress, null, STUN_RETRY, STUN_REFRESH);
        }

        /** A network built in code (tests, embedding): private addresses allowed, the bind address is told. */
        public Network(List<InetAddress> lanAddresses, List<Cidr> lanClients, List<String> lanInterfaces,
                       InetAddress wanAddress, boolean wanAuto, String wanInterface) {
            this(lanAddresses, lanClients, lanInterfaces, wanAddress, wanAuto, wanInterface, true, null, null,
                    STUN_RETRY, STUN_REFRESH);
        }

        /** The address told to clients while the external (bind) address is {@code bound}. */
        public InetAddress reported(InetAddress bound) {
            return reportedAddress != null ? reportedAddress : bound;
        }

        /**
         * Why the address told to clients is not reachable from the Internet (e.g. "private (RFC 1918)"), or
         * empty when it is public or {@code allowPrivate} is set: front-ends then report no external address.
         */
        public java.util.Optional<String> unreachable(InetAddress bound) {
            return allowPrivate ? java.util.Optional.empty() : Addresses.notPublic(reported(bound));
        }

        /** The status line and start-up warning for {@link #unreachable}: names the address, the case and the key. */
        public java.util.Optional<String> unreachableWarning(InetAddress bound) {
            return unreachable(bound).map(kind -> "the external address " + reported(bound).getHostAddress() + " is "
                    + kind + ", not reachable from the Internet (natgw is behind another NAT): clients are told there is"
                    + " no external address (NAT-PMP result 3, UPnP ExternalIPAddress empty, PCP NETWORK_FAILURE);"
                    + " set network.wan.reportedAddress to the public address, or network.wan.allowPrivate: true");
        }

        public boolean isLanClient(InetAddress address) {
            for (Cidr c : lanClients) {
                if (c.contains(address)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Lifetime bounds for leases: requests are clamped into {@code [min, max]}. */
    public record Lifetimes(Duration min, Duration max) {
        public Lifetimes {
            if (min.isNegative() || max.compareTo(min) < 0) {
                throw new IllegalArgumentException("lifetime bounds " + min.toSeconds() + "-" + max.toSeconds()
                        + " s are not 0 <= min <= max");
            }
        }
    }

    /**
     * NAT-PMP and PCP.
     *
     * @param thirdPartyClients clients allowed to use PCP THIRD_PARTY (map for another host)
     * @param rateLimitPerSecond requests per second per client before packets are dropped
     * @param strictNonce  refuse a refresh with a different nonce (NOT_AUTHORIZED) instead of accepting it
     */
    public record Pcp(boolean enabled, int port, Lifetimes lifetimes, boolean strictNonce,
                      List<Cidr> thirdPartyClients, int rateLimitPerSecond, boolean announce) {
        public Pcp {
            thirdPartyClients = List.copyOf(thirdPartyClients);
        }
    }

    /**
     * UPnP IGD.
     *
     * @param httpPort        descriptions, SOAP and GENA (TCP, LAN addresses)
     * @param v1ZeroLease     what a lease of 0 means for an IGD:1 client (v2 defines it as 604800 s)
     * @param maxLease        leases are clamped to this
     * @param udn             the IGD:1 root device's UUID (the other devices' are derived from it); "" =
     *                        generated once and kept in dataDir
     * @param manufacturer    the description's manufacturer
     * @param modelName       the description's modelName
     * @param serialNumber    the description's serialNumber; "" = none
     */
    public record Upnp(boolean enabled, int httpPort, boolean ssdp, Duration v1ZeroLease, Duration maxLease,
                       String friendlyName, String udn, String manufacturer, String modelName, String serialNumber) {

        public static final String DEFAULT_MANUFACTURER = "natgw";
        public static final String DEFAULT_MODEL_NAME = "natgw";

        /** Built in code (tests, embedding): a generated UDN and the default identity strings. */
        public Upnp(boolean enabled, int httpPort, boolean ssdp, Duration v1ZeroLease, Duration maxLease,
                    String friendlyName) {
            this(enabled, httpPort, ssdp, v1ZeroLease, maxLease, friendlyName, "", DEFAULT_MANUFACTURER,
                    DEFAULT_MODEL_NAME, "");
        }
    }

    /**
     * The admin API and web UI.
     *
     * @param plainHttp serve plain HTTP instead of HTTPS (only accepted when every address is loopback)
     */
    public record Admin(boolean enabled, List<InetAddress> addresses, int port, boolean plainHttp) {
        public Admin {
            addresses = List.copyOf(addresses);
        }
    }

    /**
     * @param secureMode         a client maps only to its own address (unless authorized as a third party)
     * @param perClientQuota     dynamic mappings one client address may hold
     * @param maxMappings        mappings of all kinds the table holds at most; {@link #AUTO} (0): derived from the
     *                           process's open-files limit at start (core's {@code Budgets})
     * @param perSubnetQuota     dynamic mappings the client addresses of one subnet may hold together
     * @param subnetPrefixLength the IPv4 subnet {@code perSubnetQuota} counts per (e.g. 24: per /24)
     * @param subnetPrefixLengthV6 the same for IPv6 clients (e.g. 64)
     */
    public record Limits(boolean secureMode, int perClientQuota, int maxMappings, int perSubnetQuota,
                         int subnetPrefixLength, int subnetPrefixLengthV6) {
        /** {@code maxMappings} meaning "derived from the open-files limit at start". */
        public static final int AUTO = 0;
        public static final int DEFAULT_PER_SUBNET_QUOTA = 256;

        public Limits {
            if (perClientQuota < 1 || perSubnetQuota < 1 || maxMappings < 0 || subnetPrefixLength < 0
                    || subnetPrefixLength > 32 || subnetPrefixLengthV6 < 0 || subnetPrefixLengthV6 > 128) {
                throw new IllegalArgumentException("limits " + perClientQuota + "/" + perSubnetQuota + "/" + maxMappings
                        + " or subnet prefix /" + subnetPrefixLength + ", /" + subnetPrefixLengthV6 + " out of range");
            }
        }

        /** Without a subnet budget beyond the per-client one (tests and benchmarks that count by address only). */
        public Limits(boolean secureMode, int perClientQuota, int maxMappings) {
            this(secureMode, perClientQuota, maxMappings, Integer.MAX_VALUE, 24, 64);
        }

        /** The subnet a client address counts against for {@link #perSubnetQuota}. */
        public Cidr subnetOf(InetAddress client) {
            return new Cidr(client, client.getAddress().length == 4 ? subnetPrefixLength : subnetPrefixLengthV6);
        }
    }

    public enum DataplaneMode { USERSPACE, LINUX_GATEWAY }

    public enum RelayMode { COPY, SPLICE }

    /** linux-gateway mode: mappings forwarded by the kernel (nftables DNAT) or relayed in user space. */
    public enum Forwarding { KERNEL, RELAY }

    /**
     * @param enabled           whether mappings are relayed at all (off: the table only, as for tests of front-ends)
     * @param relay             TCP relay: copy through user space, or epoll splice
     * @param connectTimeout    connecting to the internal host
     * @param udpIdleTimeout    a UDP session with no traffic is dropped after this (at least 120 s)
     * @param udpSessionsPerMapping remote peers one UDP mapping serves at once
     * @param cutOnDelete       close established connections when their mapping goes away
     * @param budgets           how many relayed connections and UDP sessions outsiders can make the relay hold
     * @param forwarding        linux-gateway mode: kernel (nftables DNAT, the default) or relay (user space)
     * @param ipv6Firewall      linux-gateway mode with kernel forwarding: natgw's table drops new inbound IPv6 flows
     *                          from the WAN to the LAN unless a pinhole admits them (default on)
     */
    public record Dataplane(boolean enabled, DataplaneMode mode, RelayMode relay, Duration connectTimeout,
                            Duration udpIdleTimeout, int udpSessionsPerMapping, boolean cutOnDelete,
                            RelayBudgets budgets, Forwarding forwarding, boolean ipv6Firewall) {

        /** With the IPv6 firewall on (the default). */
        public Dataplane(boolean enabled, DataplaneMode mode, RelayMode relay, Duration connectTimeout,
                         Duration udpIdleTimeout, int udpSessionsPerMapping, boolean cutOnDelete,
                         RelayBudgets budgets, Forwarding forwarding) {
            this(enabled, mode, relay, connectTimeout, udpIdleTimeout, udpSessionsPerMapping, cutOnDelete, budgets,
                    forwarding, true);
        }

        /** With the default {@link RelayBudgets} and kernel forwarding. */
        public Dataplane(boolean enabled, DataplaneMode mode, RelayMode relay, Duration connectTimeout,
                         Duration udpIdleTimeout, int udpSessionsPerMapping, boolean cutOnDelete) {
            this(enabled, mode, relay, connectTimeout, udpIdleTimeout, udpSessionsPerMapping, cutOnDelete,
                    RelayBudgets.DEFAULTS, Forwarding.KERNEL);
        }

        /** With kernel forwarding. */
        public Dataplane(boolean enabled, DataplaneMode mode, RelayMode relay, Duration connectTimeout,
                         Duration udpIdleTimeout, int udpSessionsPerMapping, boolean cutOnDelete, RelayBudgets budgets) {
            this(enabled, mode, relay, connectTimeout, udpIdleTimeout, udpSessionsPerMapping, cutOnDelete, budgets,
                    Forwarding.KERNEL);
        }

        /** With the default {@link RelayBudgets}. */
        public Dataplane(boolean enabled, DataplaneMode mode, RelayMode relay, Duration connectTimeout,
                         Duration udpIdleTimeout, int udpSessionsPerMapping, boolean cutOnDelete, Forwarding forwarding) {
            this(enabled, mode, relay, connectTimeout, udpIdleTimeout, udpSessionsPerMapping, cutOnDelete,
                    RelayBudgets.DEFAULTS, forwarding);
        }

        /** Whether mappings are forwarded by the kernel: linux-gateway mode with {@code forwarding: kernel}. */
        public boolean kernelForwarding() {
            return mode == DataplaneMode.LINUX_GATEWAY && forwarding == Forwarding.KERNEL;
        }
    }

    /**
     * Limits on what the WAN side can make the relay hold open (each relayed TCP connection holds two descriptors,
     * each UDP session one). A connection over budget is refused at once; a listener at its cap stops accepting
     * until connections close. The defaults keep the relay under half of a 20 000 open-files limit.
     *
     * @param tcpConnections           relayed TCP connections in total
     * @param tcpConnectionsPerMapping relayed TCP connections of one mapping
     * @param tcpConnectionsPerPeer    relayed TCP connections from one remote address
     * @param udpSessions              UDP sessions in total (per mapping: {@code udpSessionsPerMapping})
     */
    public record RelayBudgets(int tcpConnections, int tcpConnectionsPerMapping, int tcpConnectionsPerPeer,
                               int udpSessions) {
        public static final RelayBudgets DEFAULTS = new RelayBudgets(4000, 1000, 200, 2000);
    }

    /**
     * Why a mapping to {@code address:port} would reach the gateway itself, or null when it would not: one of
     * its own sockets, its WAN address (a loop), or on a router one of its own addresses.
     */
    public String selfMapping(Protocol protocol, InetAddress address, int port) {
        return OwnSockets.check(network, pcp, upnp, admin, protocol, address, port);
    }

    /** The ports the gateway itself listens on; the port allocator never hands these out. */
    public Set<Integer> servicePorts() {
        Set<Integer> ports = new TreeSet<>();
        ports.add(pcp.port());
        ports.add(5350); // NAT-PMP/PCP announcements
        ports.add(1900); // SSDP
        ports.add(upnp.httpPort());
        ports.add(admin.port());
        return ports;
    }
}
