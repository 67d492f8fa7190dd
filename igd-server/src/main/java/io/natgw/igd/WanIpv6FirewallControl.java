package io.natgw.igd;

import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.MappingRequest;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;
import io.natgw.core.TrafficStats;
import io.natgw.igd.ServiceSpec.TableCall;
import org.jupnp.model.action.ActionException;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.ToLongFunction;

import static io.natgw.igd.ServiceSpec.in;
import static io.natgw.igd.ServiceSpec.out;
import static io.natgw.igd.WanIpConnection.outputs;
import static org.jupnp.model.types.Datatype.Builtin.BOOLEAN;
import static org.jupnp.model.types.Datatype.Builtin.STRING;
import static org.jupnp.model.types.Datatype.Builtin.UI2;
import static org.jupnp.model.types.Datatype.Builtin.UI4;

/**
 * WANIPv6FirewallControl:1 (UPnP Forum, IGD:2) — IPv6 pinholes as rows of the one table: SOAP arguments →
 * {@link MappingRequest} for an IPv6 internal address → the table's {@link Outcome} → SOAP outputs or the spec's
 * error. The pinhole's UniqueID is core's {@link Mapping#pinholeId()}. Policy (first client wins, secure mode,
 * quotas, permission rules, lifetimes, whether the dataplane forwards pinholes at all) is the table's.
 *
 * <p>Arguments are checked first, in the spec's terms (402, 705-708), so a bad request is refused the same way
 * whatever the dataplane; then ownership (606: only a pinhole's owner updates or deletes it, as in miniupnpd only
 * its owner or internal host reads its counters); then the table, which refuses every pinhole with
 * PINHOLES_DISABLED, 702 FirewallDisabled, when its forwarder does not forward pinholes (userspace mode, relay
 * forwarding): never a UniqueID for a pinhole that lets nothing through.
 */
final class WanIpv6FirewallControl {

    /** A_ARG_TYPE_LeaseTime's allowed range (WANIPv6FirewallControl:1 §2.2.6): 1 s to one day. */
    static final long MAX_LEASE = 86400;
    /** A_ARG_TYPE_Protocol's wildcard (§2.2.4). */
    static final int PROTOCOL_WILDCARD = 65535;

    private final MappingTable table;
    private final TrafficStats traffic;
    private final BooleanSupplier pinholesForwarded;
    private final OutboundTimeouts outbound;

    /** Where GetOutboundPinholeTimeout reads the firewall's idle timeout for a protocol's outbound flows. */
    @FunctionalInterface
    interface OutboundTimeouts {
        /** Seconds, or -1 when unknown. */
        long seconds(Protocol protocol);
    }

    /**
     * @param pinholesForwarded whether the table's forwarder forwards pinholes (FirewallEnabled and
     *                          InboundPinholeAllowed tell it; the table refuses pinholes when it does not)
     */
    WanIpv6FirewallControl(MappingTable table, TrafficStats traffic, BooleanSupplier pinholesForwarded,
                           OutboundTimeouts outbound) {
        this.table = table;
        this.traffic = traffic;
        this.pinholesForwarded = pinholesForwarded;
        this.outbound = outbound;
    }

    ServiceSpec spec() {
        return ServiceSpec.of("WANIPv6FirewallControl", 1, "WANIPv6Firewall1")
                .var("FirewallEnabled", BOOLEAN, true, () -> flag(pinholesForwarded.getAsBoolean()))
                .var("InboundPinholeAllowed", BOOLEAN, true, () -> flag(pinholesForwarded.getAsBoolean()))
                .var("A_ARG_TYPE_IPv6Address", STRING)
                .var("A_ARG_TYPE_Port", UI2)
                .var("A_ARG_TYPE_Protocol", UI2)
                .var("A_ARG_TYPE_UniqueID", UI2)
                .var("A_ARG_TYPE_LeaseTime", UI4)
                .var("A_ARG_TYPE_OutboundPinholeTimeout", UI4)
                .var("A_ARG_TYPE_Boolean", BOOLEAN)
                .var("A_ARG_TYPE_PinholePackets", UI4)
                .action("GetFirewallStatus", (a, c) -> outputs("FirewallEnabled", flag(pinholesForwarded.getAsBoolean()),
                                "InboundPinholeAllowed", flag(pinholesForwarded.getAsBoolean())),
                        out("FirewallEnabled", "FirewallEnabled"), out("InboundPinholeAllowed", "InboundPinholeAllowed"))
                .action("GetOutboundPinholeTimeout", this::outboundTimeout,
                        in("RemoteHost", "A_ARG_TYPE_IPv6Address"), in("RemotePort", "A_ARG_TYPE_Port"),
                        in("InternalClient", "A_ARG_TYPE_IPv6Address"), in("InternalPort", "A_ARG_TYPE_Port"),
                        in("Protocol", "A_ARG_TYPE_Protocol"),
                        out("OutboundPinholeTimeout", "A_ARG_TYPE_OutboundPinholeTimeout"))
                .tableAction("AddPinhole", this::add,
                        in("RemoteHost", "A_ARG_TYPE_IPv6Address"), in("RemotePort", "A_ARG_TYPE_Port"),
                        in("InternalClient", "A_ARG_TYPE_IPv6Address"), in("InternalPort", "A_ARG_TYPE_Port"),
                        in("Protocol", "A_ARG_TYPE_Protocol"), in("LeaseTime", "A_ARG_TYPE_LeaseTime"),
                        out("UniqueID", "A_ARG_TYPE_UniqueID"))
                .action("UpdatePinhole", this::update,
                        in("UniqueID", "A_ARG_TYPE_UniqueID"), in("NewLeaseTime", "A_ARG_TYPE_LeaseTime"))
                .tableAction("DeletePinhole", this::delete, in("UniqueID", "A_ARG_TYPE_UniqueID"))
                .action("GetPinholePackets", this::packets,
                        in("UniqueID", "A_ARG_TYPE_UniqueID"), out("PinholePackets", "A_ARG_TYPE_PinholePackets"))
                .action("CheckPinholeWorking", this::working,
                        in("UniqueID", "A_ARG_TYPE_UniqueID"), out("IsWorking", "A_ARG_TYPE_Boolean"));
    }

    private static String flag(boolean b) {
        return b ? "1" : "0";
    }

    // ---- actions ----

    private Map<String, String> outboundTimeout(Args a, InetAddress caller) throws ActionException {
        remote(a);
        a.port("RemotePort");
        String internal = a.text("InternalClient").trim();
        if (!internal.isEmpty() && !internal.equals("*")) {
            ipv6(a, "InternalClient");
        }
        a.port("InternalPort");
        int number = (int) a.number("Protocol");
        firewallOn();
        long seconds;
        if (number == PROTOCOL_WILDCARD) {
            // any protocol: the shortest timeout is the one every outbound flow can count on
            seconds = Math.min(outbound.seconds(Protocol.TCP), outbound.seconds(Protocol.UDP));
        } else {
            seconds = outbound.seconds(protocol(number));
        }
        if (seconds < 0) {
            throw UpnpError.ACTION_FAILED.fault("the firewall's outbound timeout cannot be read");
        }
        return outputs("OutboundPinholeTimeout", Long.toString(Math.min(seconds, 0xffffffffL)));
    }

    private TableCall add(Args a, InetAddress caller) throws ActionException {
        RemoteFilter remote = remote(a);
        int remotePort = a.port("RemotePort");
        String internalText = a.text("InternalClient").trim();
        if (internalText.isEmpty() || internalText.equals("*")) {
            throw UpnpError.WILDCARD_NOT_PERMITTED_IN_SRC_IP.fault("InternalClient '" + internalText + "'");
        }
        Inet6Address internal = ipv6(a, "InternalClient");
        int internalPort = a.port("InternalPort");
        if (internalPort == 0) {
            throw UpnpError.INTERNAL_PORT_WILDCARDING_NOT_ALLOWED.fault("InternalPort 0");
        }
        int number = (int) a.number("Protocol");
        if (number == PROTOCOL_WILDCARD) {
            throw UpnpError.PROTOCOL_WILDCARDING_NOT_ALLOWED.fault("Protocol 65535");
        }
        Protocol protocol = protocol(number);
        Duration lease = lease(a, "LeaseTime");
        RemoteFilter filter = remotePort == 0 ? remote
                : new RemoteFilter(remote.address(), remote.prefixLength(), remotePort);
        MappingRequest.Map request = new MappingRequest.Map(Owner.of(caller, Origin.UPNP), protocol,
                new Endpoint(internal, internalPort), internalPort, filter, lease, Kind.DYNAMIC, "", "",
                MappingRequest.OnConflict.FAIL, true, !internal.equals(caller));
        return new TableCall(table, request, o -> {
            if (o instanceof Outcome.Granted g) {
                return outputs("UniqueID", Integer.toString(g.mapping().pinholeId()));
            }
            throw refusal(o);
        });
    }

    private Map<String, String> update(Args a, InetAddress caller) throws ActionException {
        int id = uniqueId(a);
        Duration lease = lease(a, "NewLeaseTime");
        Mapping m = owned(id, caller, false);
        MappingRequest.Map request = new MappingRequest.Map(Owner.of(caller, Origin.UPNP), m.protocol(), m.internal(),
                m.internal().port(), m.remote(), lease, Kind.DYNAMIC, m.description(), "",
                MappingRequest.OnConflict.FAIL, true, !m.internal().address().equals(caller));
        Outcome o = TableCalls.await(table, request);
        if (o instanceof Outcome.Granted g) {
            if (g.mapping().pinholeId() != id) {
                // the pinhole expired or was deleted meanwhile, and the same request opened a new one: undo it
                TableCalls.await(table, new MappingRequest.Delete(Owner.of(caller, Origin.UPNP), g.mapping().key()));
                throw UpnpError.NO_SUCH_ENTRY.fault("pinhole " + id + " went away during the update");
            }
            return Map.of();
        }
        if (o instanceof Outcome.Refused r && r.reason() == Outcome.Reason.CONFLICT) {
            throw UpnpError.NOT_AUTHORIZED.fault("pinhole " + id + " is held by " + m.owner());
        }
        throw refusal(o);
    }

    private TableCall delete(Args a, InetAddress caller) throws ActionException {
        int id = uniqueId(a);
        Mapping m = owned(id, caller, false);
        return new TableCall(table, new MappingRequest.Delete(Owner.of(caller, Origin.UPNP), m.key()), o -> {
            if (o instanceof Outcome.Deleted d) {
                if (d.removed().isEmpty()) {
                    throw UpnpError.NO_SUCH_ENTRY.fault("pinhole " + id + " went away");
                }
                return Map.of();
            }
            throw refusal(o);
        });
    }

    private Map<String, String> packets(Args a, InetAddress caller) throws ActionException {
        Mapping m = owned(uniqueId(a), caller, true);
        return outputs("PinholePackets", Long.toString(inbound(m, TrafficStats.Counters::packetsReceived) & 0xffffffffL));
    }

    private Map<String, String> working(Args a, InetAddress caller) throws ActionException {
        int id = uniqueId(a);
        Mapping m = owned(id, caller, true);
        if (inbound(m, TrafficStats.Counters::packetsReceived) == 0) {
            throw UpnpError.NO_PACKET_SENT.fault("no packet has passed pinhole " + id + " yet");
        }
        return outputs("IsWorking", "1");
    }

    // ---- translation helpers ----

    private long inbound(Mapping m, ToLongFunction<TrafficStats.Counters> field) {
        return field.applyAsLong(traffic.of(m.key()));
    }

    /** 702 when the dataplane forwards no pinhole (there is then no pinhole to act on either). */
    private void firewallOn() throws ActionException {
        if (!pinholesForwarded.getAsBoolean()) {
            throw UpnpError.FIREWALL_DISABLED.fault("pinholes need linux-gateway mode with kernel forwarding");
        }
    }

    /**
     * The live pinhole {@code id} the caller may act on: its owner, or (for reading its counters,
     * {@code readOnly}) its internal host. 702 when pinholes are off, 704 when there is none, 606 otherwise.
     */
    private Mapping owned(int id, InetAddress caller, boolean readOnly) throws ActionException {
        firewallOn();
        Mapping m = table.view().pinhole(id)
                .orElseThrow(() -> UpnpError.NO_SUCH_ENTRY.fault("no pinhole " + id));
        boolean owner = m.owner().origin() == Origin.UPNP && m.owner().address().equals(caller);
        if (!owner && !(readOnly && m.internal().address().equals(caller))) {
            throw UpnpError.NOT_AUTHORIZED.fault("pinhole " + id + " is held by " + m.owner());
        }
        return m;
    }

    private static int uniqueId(Args a) throws ActionException {
        return a.port("UniqueID"); // a ui2, 0-65535; 0 is never a live id (704)
    }

    /** LeaseTime: 1-86400 s (A_ARG_TYPE_LeaseTime's range), else 402. */
    private static Duration lease(Args a, String name) throws ActionException {
        long seconds = a.number(name);
        if (seconds < 1 || seconds > MAX_LEASE) {
            throw UpnpError.INVALID_ARGS.fault(name + " " + seconds + " is outside 1-" + MAX_LEASE);
        }
        return Duration.ofSeconds(seconds);
    }

    /** TCP (6) or UDP (17); any other protocol number is 705 (65535, the wildcard, is the caller's to handle). */
    private static Protocol protocol(int number) throws ActionException {
        Protocol p = Protocol.ofIana(number);
        if (p == null) {
            throw UpnpError.PROTOCOL_NOT_SUPPORTED.fault("Protocol " + number + " (accepted: 6 TCP, 17 UDP)");
        }
        return p;
    }

    /** RemoteHost: an IPv6 literal, or empty (or {@code *}) for any host. */
    private static RemoteFilter remote(Args a) throws ActionException {
        String t = a.text("RemoteHost").trim();
        if (t.isEmpty() || t.equals("*")) {
            return RemoteFilter.ANY;
        }
        return RemoteFilter.host(ipv6(a, "RemoteHost"));
    }

    /** An IPv6 literal without a zone (a name is never resolved, an IPv4 or IPv4-mapped address is 402). */
    private static Inet6Address ipv6(Args a, String name) throws ActionException {
        InetAddress address = a.address(name, false);
        if (!(address instanceof Inet6Address v6)) {
            throw UpnpError.INVALID_ARGS.fault(name + " '" + a.text(name).trim() + "' is not an IPv6 address");
        }
        return v6;
    }

    private static ActionException refusal(Outcome o) {
        if (o instanceof Outcome.Refused r) {
            return UpnpError.ofPinhole(r.reason()).fault(r.detail());
        }
        return UpnpError.ACTION_FAILED.fault("unexpected outcome " + o);
    }
}
