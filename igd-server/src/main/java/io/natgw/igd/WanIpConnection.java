package io.natgw.igd;

import io.natgw.conf.NatgwConfig;
import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import io.natgw.core.MappingRequest;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;
import io.natgw.core.WanLink;
import io.natgw.igd.ServiceSpec.TableCall;
import org.jupnp.model.action.ActionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.natgw.igd.ServiceSpec.in;
import static io.natgw.igd.ServiceSpec.out;
import static org.jupnp.model.types.Datatype.Builtin.BOOLEAN;
import static org.jupnp.model.types.Datatype.Builtin.STRING;
import static org.jupnp.model.types.Datatype.Builtin.UI2;
import static org.jupnp.model.types.Datatype.Builtin.UI4;

/**
 * WANIPConnection:1 and :2 — a thin translator: SOAP arguments → {@link MappingRequest} → the table's
 * {@link Outcome} → SOAP outputs or UPnP error. Policy (first client wins, ownership, secure mode, quotas,
 * lease clamps) is the table's; this class only names the spec's error for each refusal.
 */
final class WanIpConnection {

    private static final Logger LOG = LoggerFactory.getLogger(WanIpConnection.class);

    /** The longest description accepted, as the admin API's (a longer one is refused with 402, not cut). */
    static final int MAX_DESCRIPTION = 256;

    /** WANIPConnection:2 §2.3.16: a lease of 0 means the maximum, one week. */
    static final Duration V2_ZERO_LEASE = Duration.ofSeconds(604800);
    /** GetListOfPortMappings answers at most this many entries whatever NewNumberOfPorts asks. */
    static final int LIST_MAX = 1000;

    private final MappingTable table;
    private final int version;
    private final WanLink link;

    private final NatgwConfig.Network network;

    /** @param link the WAN link: ConnectionStatus, Uptime and LastConnectionError are its state (see {@link LinkFigures}) */
    WanIpConnection(MappingTable table, NatgwConfig.Network network, int version, WanLink link) {
        this.table = table;
        this.network = network;
        this.version = version;
        this.link = link;
    }

    /**
     * What clients are told: network.wan.reportedAddress, else the bind address; the empty string when that is
     * private, CGNAT or loopback and network.wan.allowPrivate is off (the IGD's "no external address": upnpc
     * and Tailscale's port mapper then treat the gateway as unable to give a public address). Mappings are
     * still accepted, as miniupnpd does without ext_perform_stun.
     */
    private String externalIpAddress() {
        return network.unreachable(table.externalAddress()).isPresent() ? ""
                : network.reported(table.externalAddress()).getHostAddress();
    }

    ServiceSpec spec() {
        ServiceSpec s = ServiceSpec.of("WANIPConnection", version, "WANIPConn1")
                .var("ConnectionType", STRING, false, () -> "IP_Routed")
                .var("PossibleConnectionTypes", STRING, false, () -> "IP_Routed")
                .var("ConnectionStatus", STRING, true, () -> LinkFigures.connectionStatus(link.read()))
                .var("Uptime", UI4, false, () -> LinkFigures.uptime(link.read()))
                .var("LastConnectionError", STRING, false, () -> LinkFigures.lastConnectionError(link.read()))
                .var("RSIPAvailable", BOOLEAN, false, () -> "0")
                .var("NATEnabled", BOOLEAN, false, () -> "1")
                .var("ExternalIPAddress", STRING, true, this::externalIpAddress)
                .var("PortMappingNumberOfEntries", UI2, true, () -> Integer.toString(Math.min(65535, table.portMappingCount())))
                .var("PortMappingEnabled", BOOLEAN)
                .var("PortMappingLeaseDuration", UI4)
                .var("RemoteHost", STRING)
                .var("ExternalPort", UI2)
                .var("InternalPort", UI2)
                .var("PortMappingProtocol", STRING)
                .var("InternalClient", STRING)
                .var("PortMappingDescription", STRING)
                .action("SetConnectionType", (a, c) -> {
                    throw UpnpError.READ_ONLY.fault("the connection type is fixed");
                }, in("NewConnectionType", "ConnectionType"))
                .action("GetConnectionTypeInfo", (a, c) -> outputs("NewConnectionType", "IP_Routed",
                                "NewPossibleConnectionTypes", "IP_Routed"),
                        out("NewConnectionType", "ConnectionType"), out("NewPossibleConnectionTypes", "PossibleConnectionTypes"))
                .action("RequestConnection", (a, c) -> {
                    throw UpnpError.NOT_AUTHORIZED.fault("the WAN connection is not controlled over UPnP");
                })
                .action("ForceTermination", (a, c) -> {
                    throw UpnpError.NOT_AUTHORIZED.fault("the WAN connection is not controlled over UPnP");
                })
                .action("GetStatusInfo", (a, c) -> {
                            WanLink.Reading r = link.read(); // one reading: the three outputs agree
                            return outputs("NewConnectionStatus", LinkFigures.connectionStatus(r),
                                    "NewLastConnectionError", LinkFigures.lastConnectionError(r), "NewUptime", LinkFigures.uptime(r));
                        },
                        out("NewConnectionStatus", "ConnectionStatus"), out("NewLastConnectionError", "LastConnectionError"),
                        out("NewUptime", "Uptime"))
                .action("GetNATRSIPStatus", (a, c) -> outputs("NewRSIPAvailable", "0", "NewNATEnabled", "1"),
                        out("NewRSIPAvailable", "RSIPAvailable"), out("NewNATEnabled", "NATEnabled"))
                .action("GetExternalIPAddress", (a, c) -> outputs("NewExternalIPAddress", externalIpAddress()),
                        out("NewExternalIPAddress", "ExternalIPAddress"))
                .action("GetGenericPortMappingEntry", this::getGeneric,
                        in("NewPortMappingIndex", "PortMappingNumberOfEntries"),
                        out("NewRemoteHost", "RemoteHost"), out("NewExternalPort", "ExternalPort"),
                        out("NewProtocol", "PortMappingProtocol"), out("NewInternalPort", "InternalPort"),
                        out("NewInternalClient", "InternalClient"), out("NewEnabled", "PortMappingEnabled"),
                        out("NewPortMappingDescription", "PortMappingDescription"),
                        out("NewLeaseDuration", "PortMappingLeaseDuration"))
                .action("GetSpecificPortMappingEntry", this::getSpecific,
                        in("NewRemoteHost", "RemoteHost"), in("NewExternalPort", "ExternalPort"),
                        in("NewProtocol", "PortMappingProtocol"),
                        out("NewInternalPort", "InternalPort"), out("NewInternalClient", "InternalClient"),
                        out("NewEnabled", "PortMappingEnabled"), out("NewPortMappingDescription", "PortMappingDescription"),
                        out("NewLeaseDuration", "PortMappingLeaseDuration"))
                .tableAction("AddPortMapping", this::add,
                        in("NewRemoteHost", "RemoteHost"), in("NewExternalPort", "ExternalPort"),
                        in("NewProtocol", "PortMappingProtocol"), in("NewInternalPort", "InternalPort"),
                        in("NewInternalClient", "InternalClient"), in("NewEnabled", "PortMappingEnabled"),
                        in("NewPortMappingDescription", "PortMappingDescription"),
                        in("NewLeaseDuration", "PortMappingLeaseDuration"))
                .tableAction("DeletePortMapping", this::delete,
                        in("NewRemoteHost", "RemoteHost"), in("NewExternalPort", "ExternalPort"),
                        in("NewProtocol", "PortMappingProtocol"));
        if (version >= 2) {
            s.var("SystemUpdateID", UI4, true, () -> Long.toString(table.version() & 0xffffffffL))
                    .var("A_ARG_TYPE_Manage", BOOLEAN)
                    .var("A_ARG_TYPE_PortListing", STRING)
                    .tableAction("AddAnyPortMapping", this::addAny,
                            in("NewRemoteHost", "RemoteHost"), in("NewExternalPort", "ExternalPort"),
                            in("NewProtocol", "PortMappingProtocol"), in("NewInternalPort", "InternalPort"),
                            in("NewInternalClient", "InternalClient"), in("NewEnabled", "PortMappingEnabled"),
                            in("NewPortMappingDescription", "PortMappingDescription"),
                            in("NewLeaseDuration", "PortMappingLeaseDuration"),
                            out("NewReservedPort", "ExternalPort"))
                    .tableAction("DeletePortMappingRange", this::deleteRange,
                            in("NewStartPort", "ExternalPort"), in("NewEndPort", "ExternalPort"),
                            in("NewProtocol", "PortMappingProtocol"), in("NewManage", "A_ARG_TYPE_Manage"))
                    .action("GetListOfPortMappings", this::list,
                            in("NewStartPort", "ExternalPort"), in("NewEndPort", "ExternalPort"),
                            in("NewProtocol", "PortMappingProtocol"), in("NewManage", "A_ARG_TYPE_Manage"),
                            in("NewNumberOfPorts", "PortMappingNumberOfEntries"),
                            out("NewPortListing", "A_ARG_TYPE_PortListing"));
        }
        return s;
    }

    // ---- actions ----

    private Map<String, String> getGeneric(Args a, InetAddress caller) throws ActionException {
        int index = (int) Math.min(Integer.MAX_VALUE, a.number("NewPortMappingIndex"));
        Mapping m = table.view().get(index)
                .orElseThrow(() -> UpnpError.SPECIFIED_ARRAY_INDEX_INVALID.fault("no entry at index " + index));
        return outputs("NewRemoteHost", remoteHost(m.remote()), "NewExternalPort", Integer.toString(m.externalPort()),
                "NewProtocol", protocolName(m.protocol()), "NewInternalPort", Integer.toString(m.internal().port()),
                "NewInternalClient", m.internal().address().getHostAddress(), "NewEnabled", m.enabled() ? "1" : "0",
                "NewPortMappingDescription", m.description(), "NewLeaseDuration", lease(m));
    }

    private Map<String, String> getSpecific(Args a, InetAddress caller) throws ActionException {
        MappingKey key = new MappingKey(a.protocol("NewProtocol"), externalPort(a, "NewExternalPort"), remote(a));
        Mapping m = table.find(key)
                .orElseThrow(() -> UpnpError.NO_SUCH_ENTRY_IN_ARRAY.fault("no mapping " + key));
        return outputs("NewInternalPort", Integer.toString(m.internal().port()),
                "NewInternalClient", m.internal().address().getHostAddress(), "NewEnabled", m.enabled() ? "1" : "0",
                "NewPortMappingDescription", m.description(), "NewLeaseDuration", lease(m));
    }

    private TableCall add(Args a, InetAddress caller) throws ActionException {
        if (a.port("NewExternalPort") == 0) {
            // IGD:1 and :2 AddPortMapping: a wildcard external port is refused (716); AddAnyPortMapping picks one.
            throw UpnpError.WILDCARD_NOT_PERMITTED_IN_EXT_PORT.fault("NewExternalPort 0");
        }
        return map(a, caller, MappingRequest.OnConflict.FAIL, m -> Map.of());
    }

    private TableCall addAny(Args a, InetAddress caller) throws ActionException {
        return map(a, caller, MappingRequest.OnConflict.ALTERNATIVE,
                m -> outputs("NewReservedPort", Integer.toString(m.externalPort())));
    }

    /** What a granted mapping answers. */
    private interface Granted {
        Map<String, String> answer(Mapping m);
    }

    private TableCall map(Args a, InetAddress caller, MappingRequest.OnConflict onConflict, Granted granted)
            throws ActionException {
        RemoteFilter remote = remote(a);
        int external = a.port("NewExternalPort");
        Protocol protocol = a.protocol("NewProtocol");
        int internalPort = a.port("NewInternalPort");
        if (internalPort == 0) {
            throw UpnpError.INVALID_ARGS.fault("NewInternalPort 0");
        }
        InetAddress client = a.address("NewInternalClient", false);
        if (client instanceof java.net.Inet6Address) {
            // a port mapping on the WAN address goes to an IPv4 host; IPv6 hosts get pinholes (WANIPv6FirewallControl)
            throw UpnpError.INVALID_ARGS.fault("NewInternalClient " + client.getHostAddress() + " is IPv6: "
                    + "WANIPConnection maps to IPv4 hosts, WANIPv6FirewallControl opens IPv6 pinholes");
        }
        boolean enabled = a.flag("NewEnabled");
        String description = a.text("NewPortMappingDescription");
        if (description.length() > MAX_DESCRIPTION) {
            throw UpnpError.INVALID_ARGS.fault("NewPortMappingDescription has " + description.length()
                    + " characters (at most " + MAX_DESCRIPTION + ")");
        }
        long seconds = a.number("NewLeaseDuration");
        Duration lease = seconds != 0 ? Duration.ofSeconds(seconds)
                : version >= 2 ? V2_ZERO_LEASE : table.config().upnp().v1ZeroLease();
        Owner owner = Owner.of(caller, Origin.UPNP);
        MappingRequest.Map request = new MappingRequest.Map(owner, protocol, new Endpoint(client, internalPort), external,
                remote, lease, Kind.DYNAMIC, description, "", onConflict, enabled, !client.equals(caller));
        return new TableCall(table, request, o -> {
            if (o instanceof Outcome.Granted g) {
                return granted.answer(g.mapping());
            }
            throw refusal(o);
        });
    }

    private TableCall delete(Args a, InetAddress caller) throws ActionException {
        int external = externalPort(a, "NewExternalPort");
        Owner owner = Owner.of(caller, Origin.UPNP);
        if (a.text("NewProtocol").isEmpty()) {
            // libp2p's client sends no protocol: the caller's own mappings of that port, both protocols, never another's.
            return new TableCall(table, new MappingRequest.DeleteRange(owner, null, external, external), o -> {
                if (o instanceof Outcome.Deleted d && d.removed().isEmpty()) {
                    throw UpnpError.NO_SUCH_ENTRY_IN_ARRAY.fault("caller holds no mapping of port " + external);
                }
                return deleted(o);
            });
        }
        MappingKey key = new MappingKey(a.protocol("NewProtocol"), external, remote(a));
        return new TableCall(table, new MappingRequest.Delete(owner, key), WanIpConnection::deleted);
    }

    private static Map<String, String> deleted(Outcome o) throws ActionException {
        if (o instanceof Outcome.Deleted) {
            return Map.of();
        }
        throw refusal(o);
    }

    private TableCall deleteRange(Args a, InetAddress caller) throws ActionException {
        int first = a.port("NewStartPort");
        int last = a.port("NewEndPort");
        Protocol protocol = a.protocol("NewProtocol");
        a.flag("NewManage"); // read for 402 on garbage; only the caller's own mappings are ever deleted
        if (first > last) {
            throw UpnpError.INCONSISTENT_PARAMETERS.fault("NewStartPort " + first + " > NewEndPort " + last);
        }
        return new TableCall(table, new MappingRequest.DeleteRange(Owner.of(caller, Origin.UPNP), protocol, first, last), o -> {
            if (o instanceof Outcome.Deleted d && d.removed().isEmpty()) {
                throw UpnpError.PORT_MAPPING_NOT_FOUND.fault("caller holds no " + protocol.label() + " mapping in " + first + "-" + last);
            }
            return deleted(o);
        });
    }

    private Map<String, String> list(Args a, InetAddress caller) throws ActionException {
        int first = a.port("NewStartPort");
        int last = a.port("NewEndPort");
        Protocol protocol = a.protocol("NewProtocol");
        boolean manage = a.flag("NewManage");
        long wanted = a.number("NewNumberOfPorts");
        if (first > last) {
            throw UpnpError.INCONSISTENT_PARAMETERS.fault("NewStartPort " + first + " > NewEndPort " + last);
        }
        int max = wanted == 0 || wanted > LIST_MAX ? LIST_MAX : (int) wanted;
        List<Mapping> rows = table.view().range(protocol, first, last, Integer.MAX_VALUE).stream()
                .filter(m -> manage || m.owner().address().equals(caller) || m.internal().address().equals(caller))
                .limit(max)
                .toList();
        if (rows.isEmpty()) {
            throw UpnpError.PORT_MAPPING_NOT_FOUND.fault("no " + protocol.label() + " mapping in " + first + "-" + last);
        }
        return outputs("NewPortListing", PortListing.xml(rows, table.clock().instant()));
    }

    // ---- translation helpers ----

    private static ActionException refusal(Outcome o) {
        if (o instanceof Outcome.Refused r) {
            return UpnpError.of(r.reason()).fault(r.detail());
        }
        LOG.warn("unexpected outcome {}", o);
        return UpnpError.ACTION_FAILED.fault("unexpected outcome " + o);
    }

    /** An external port named in a lookup or delete: 0 is not a port there. */
    private static int externalPort(Args a, String name) throws ActionException {
        int p = a.port(name);
        if (p == 0) {
            throw UpnpError.INVALID_ARGS.fault(name + " 0");
        }
        return p;
    }

    private static RemoteFilter remote(Args a) throws ActionException {
        InetAddress host = a.address("NewRemoteHost", true);
        return host == null || host.isAnyLocalAddress() ? RemoteFilter.ANY : RemoteFilter.host(host);
    }

    static String remoteHost(RemoteFilter f) {
        return f.address() == null ? "" : f.address().getHostAddress();
    }

    static String protocolName(Protocol p) {
        return p.name();
    }

    /** Seconds left; 0 for a mapping that never expires (the spec's "permanent"). */
    private String lease(Mapping m) {
        Duration left = m.remaining(table.clock().instant());
        return Long.toString(left == null ? 0 : Math.min(0xffffffffL, Math.max(1, left.getSeconds())));
    }

    static Map<String, String> outputs(String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }
}
