package io.natgw.pcp;

import io.natgw.conf.NatgwConfig;
import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.MappingRequest;
import io.natgw.core.MappingRequest.OnConflict;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * PCP (RFC 6887): decode, ask the table, encode. Completes with the reply, or null for no reply.
 * <p>
 * A MAP or PEER whose internal host is IPv6 asks for a pinhole (RFC 6887 as a firewall, §11.3): no translation,
 * so the assigned external address and port are the internal ones. IPv4 internal hosts get NAT mappings on the
 * WAN address as before.
 */
final class PcpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(PcpHandler.class);

    private final MappingTable table;
    private final StatsCounter stats;

    private final NatgwConfig.Network network;
    /** Whether the one line saying why pinholes are refused was written (the table writes its own too). */
    private final java.util.concurrent.atomic.AtomicBoolean pinholesRefusedLogged = new java.util.concurrent.atomic.AtomicBoolean();

    PcpHandler(MappingTable table, StatsCounter stats, NatgwConfig.Network network) {
        this.table = table;
        this.stats = stats;
        this.network = network;
    }

    CompletableFuture<byte[]> handle(InetAddress client, ByteBuffer datagram) {
        PcpRequest request;
        try {
            request = PcpCodec.decodeRequest(datagram);
        } catch (PcpFormatException e) {
            if (e.silent()) {
                LOG.debug("pcp from {} ignored: {}", client.getHostAddress(), e.getMessage());
                stats.ignored();
                return CompletableFuture.completedFuture(null);
            }
            LOG.debug("pcp from {}: {} ({})", client.getHostAddress(), e.result(), e.getMessage());
            stats.pcpRequest();
            stats.answered(e.result());
            return CompletableFuture.completedFuture(PcpCodec.encodeError(datagram, e.result(), table.epochSeconds()));
        }
        stats.pcpRequest();
        // RFC 6887 §8.3: the client address field must be the packet's source (no NAT between client and server).
        // A probe with 0.0.0.0 lands here too and is never read as "delete everything".
        // An IPv4-mapped client address from an IPv6 source (or the reverse) is a family mismatch: the same answer.
        if (!request.clientAddress().equals(client)) {
            LOG.debug("pcp {} from {} claims client address {}", request.opcode(), client.getHostAddress(),
                    request.clientAddress().getHostAddress());
            return done(error(request, PcpResultCode.ADDRESS_MISMATCH));
        }
        return switch (request.opcode()) {
            case ANNOUNCE -> done(new PcpResponse(PcpOpcode.ANNOUNCE.wire(), PcpResultCode.SUCCESS, 0,
                    table.epochSeconds(), new PcpOpcodeData.Announce(), List.of()));
            case MAP -> map(client, request, (PcpOpcodeData.MapData) request.data());
            case PEER -> peer(client, request, (PcpOpcodeData.PeerData) request.data());
        };
    }

    // ---- MAP (RFC 6887 §11) ----

    private CompletableFuture<byte[]> map(InetAddress client, PcpRequest request, PcpOpcodeData.MapData d) {
        Owner owner = Owner.of(client, Origin.PCP);
        InetAddress internal = request.option(PcpOption.ThirdParty.class).map(PcpOption.ThirdParty::internalAddress).orElse(client);
        boolean thirdParty = request.option(PcpOption.ThirdParty.class).isPresent();
        PcpResultCode badInternal = checkInternal(client, request, internal, thirdParty);
        if (badInternal != null) {
            return done(error(request, badInternal));
        }
        boolean pinhole = internal instanceof Inet6Address;
        Protocol protocol = Protocol.ofIana(d.protocol());
        if (request.lifetime() == 0) {
            if (protocol == null && d.protocol() != 0) {
                return done(error(request, PcpResultCode.UNSUPP_PROTOCOL));
            }
            // RFC 6887 §15: lifetime 0 deletes; protocol 0 / internal port 0 mean all; the nonce must match.
            MappingRequest.DeleteInternal delete = new MappingRequest.DeleteInternal(owner, protocol, internal,
                    d.internalPort(), d.nonce().hex());
            return submit(client, request, delete, mapping -> new PcpOpcodeData.MapData(d.nonce(), d.protocol(),
                    d.internalPort(), mapping == null ? d.externalPort() : mapping.externalPort(), assigned(internal)));
        }
        if (protocol == null) {
            return done(error(request, PcpResultCode.UNSUPP_PROTOCOL));
        }
        if (!pinhole && unreachable(client, request)) { // a pinhole's external address is the host's own
            return done(error(request, PcpResultCode.NETWORK_FAILURE));
        }
        boolean preferFailure = request.option(PcpOption.PreferFailure.class).isPresent();
        if (preferFailure && d.externalPort() == 0) {
            return done(error(request, PcpResultCode.MALFORMED_OPTION)); // PREFER_FAILURE needs a suggested port
        }
        // §11.3: the suggested external address and port are hints; §13.2: with PREFER_FAILURE, anything else than
        // what can be assigned is CANNOT_PROVIDE_EXTERNAL. A pinhole can only be the internal address and port, so
        // an IPv4 suggestion for an IPv6 host (a NAT64 mapping, which natgw does not make) is such a case.
        if (preferFailure && !PcpCodec.unspecified(d.externalAddress()) && !d.externalAddress().equals(assigned(internal))) {
            return done(error(request, PcpResultCode.CANNOT_PROVIDE_EXTERNAL)); // §13.2: that address is not ours
        }
        if (preferFailure && pinhole && d.externalPort() != d.internalPort()) {
            return done(error(request, PcpResultCode.CANNOT_PROVIDE_EXTERNAL)); // a pinhole's port is the internal port
        }
        List<PcpOption.Filter> filters = request.all(PcpOption.Filter.class);
        if (filters.size() > 1) {
            return done(error(request, PcpResultCode.EXCESSIVE_REMOTE_PEERS)); // §13.3: one filter per mapping here
        }
        if (!filters.isEmpty() && filters.get(0).prefixLength() != 0 && !sameFamily(filters.get(0).remoteAddress(), internal)) {
            return done(error(request, PcpResultCode.MALFORMED_OPTION)); // no NAT64 here: a filter is of the host's family
        }
        RemoteFilter remote = filters.isEmpty() ? RemoteFilter.ANY : remoteFilter(filters.get(0));
        String description = request.option(PcpOption.Description.class).map(PcpOption.Description::text).orElse("");
        MappingRequest.Map map = new MappingRequest.Map(owner, protocol, new Endpoint(internal, d.internalPort()),
                pinhole ? d.internalPort() : d.externalPort(), remote, Duration.ofSeconds(request.lifetime()), Kind.DYNAMIC,
                description, d.nonce().hex(), preferFailure ? OnConflict.FAIL : OnConflict.ALTERNATIVE, true, thirdParty);
        return submit(client, request, map, mapping -> new PcpOpcodeData.MapData(d.nonce(), d.protocol(), d.internalPort(),
                mapping.externalPort(), assigned(mapping.internal().address())));
    }

    /**
     * The internal host of a MAP or PEER, the packet's source or THIRD_PARTY's address: null when it may ask the
     * table, else the code to answer. An IPv6 internal host must be one a pinhole can reach: not link-local,
     * multicast, loopback, unspecified or IPv4-compatible (the table refuses the same, BAD_INTERNAL_ADDRESS). An
     * IPv4-mapped address decodes as IPv4 and is an IPv4 host.
     * From the packet's source that is NOT_AUTHORIZED (the request is well formed; policy refuses such a host, a
     * long-lived error so the client does not retry); in THIRD_PARTY it is MALFORMED_OPTION (the option names no
     * host a mapping can be for). THIRD_PARTY naming the sender itself is MALFORMED_REQUEST (RFC 6887 §13.1 MUST).
     */
    private PcpResultCode checkInternal(InetAddress client, PcpRequest request, InetAddress internal, boolean thirdParty) {
        if (thirdParty && internal.equals(client)) {
            LOG.debug("pcp {} from {}: THIRD_PARTY names the sender itself", request.opcode(), client.getHostAddress());
            return PcpResultCode.MALFORMED_REQUEST;
        }
        if (internal instanceof Inet6Address v6 && !pinholeHost(v6)) {
            LOG.debug("pcp {} from {}: internal address {} cannot have a pinhole (link-local, multicast, loopback,"
                    + " unspecified or IPv4-compatible)", request.opcode(), client.getHostAddress(), v6.getHostAddress());
            return thirdParty ? PcpResultCode.MALFORMED_OPTION : PcpResultCode.NOT_AUTHORIZED;
        }
        return null;
    }

    /** An IPv6 address a pinhole can be opened to: a global or unique-local unicast address. */
    static boolean pinholeHost(Inet6Address a) {
        return !a.isLinkLocalAddress() && !a.isMulticastAddress() && !a.isLoopbackAddress() && !a.isAnyLocalAddress()
                && !a.isIPv4CompatibleAddress();
    }

    /** FILTER's prefix counts bits of the 128-bit form: an IPv4 filter's prefix is 96 more than its own. */
    private static RemoteFilter remoteFilter(PcpOption.Filter f) {
        if (f.prefixLength() == 0) {
            return RemoteFilter.ANY; // §13.3: prefix length 0 removes all filters
        }
        int prefix = f.remoteAddress() instanceof Inet4Address ? f.prefixLength() - 96 : f.prefixLength();
        return new RemoteFilter(f.remoteAddress(), prefix, f.remotePort());
    }

    // ---- PEER (RFC 6887 §12) ----

    private CompletableFuture<byte[]> peer(InetAddress client, PcpRequest request, PcpOpcodeData.PeerData d) {
        Protocol protocol = Protocol.ofIana(d.protocol());
        if (protocol == null) {
            return done(error(request, PcpResultCode.UNSUPP_PROTOCOL));
        }
        if (d.internalPort() == 0 || d.remotePort() == 0 || PcpCodec.unspecified(d.remoteAddress())) {
            return done(error(request, PcpResultCode.MALFORMED_REQUEST)); // §12.1: a PEER names one flow
        }
        Owner owner = Owner.of(client, Origin.PCP);
        InetAddress internal = request.option(PcpOption.ThirdParty.class).map(PcpOption.ThirdParty::internalAddress).orElse(client);
        boolean thirdParty = request.option(PcpOption.ThirdParty.class).isPresent();
        PcpResultCode badInternal = checkInternal(client, request, internal, thirdParty);
        if (badInternal != null) {
            return done(error(request, badInternal));
        }
        boolean pinhole = internal instanceof Inet6Address;
        // a PEER never deletes (lifetime 0 is clamped), so always; a pinhole's external address is the host's own
        if (!pinhole && unreachable(client, request)) {
            return done(error(request, PcpResultCode.NETWORK_FAILURE));
        }
        if (!sameFamily(d.remoteAddress(), internal)) {
            return done(error(request, PcpResultCode.MALFORMED_REQUEST)); // no NAT64 here: the peer is of the host's family
        }
        String description = request.option(PcpOption.Description.class).map(PcpOption.Description::text).orElse("");
        // The implicit dynamic mapping of that flow: only the peer may come in. A PEER cannot delete (lifetime 0 is
        // clamped by the table like any other).
        RemoteFilter remote = new RemoteFilter(d.remoteAddress(), d.remoteAddress().getAddress().length * 8, d.remotePort());
        MappingRequest.Map map = new MappingRequest.Map(owner, protocol, new Endpoint(internal, d.internalPort()),
                pinhole ? d.internalPort() : d.externalPort(), remote, Duration.ofSeconds(request.lifetime()), Kind.DYNAMIC,
                description, d.nonce().hex(), OnConflict.ALTERNATIVE, true, thirdParty);
        return submit(client, request, map, mapping -> new PcpOpcodeData.PeerData(d.nonce(), d.protocol(), d.internalPort(),
                mapping.externalPort(), assigned(mapping.internal().address()), d.remotePort(), d.remoteAddress()));
    }

    private static boolean sameFamily(InetAddress a, InetAddress b) {
        return a.getAddress().length == b.getAddress().length;
    }

    // ---- answering ----

    private interface DataFor {
        PcpOpcodeData of(Mapping mapping);
    }

    private CompletableFuture<byte[]> submit(InetAddress client, PcpRequest request, MappingRequest change, DataFor data) {
        return table.submit(change).handle((outcome, failure) -> {
            if (failure != null) {
                LOG.warn("pcp {} failed in the table: {}", request.opcode(), failure.toString());
                return answer(error(request, PcpResultCode.NETWORK_FAILURE));
            }
            if (outcome instanceof Outcome.Granted g) {
                Mapping m = g.mapping();
                long lifetime = m.permanent() ? request.lifetime() : Lifetimes.secondsLeft(m, table.clock());
                return answer(new PcpResponse(request.opcode().wire(), PcpResultCode.SUCCESS, lifetime,
                        table.epochSeconds(), data.of(m), request.options()));
            }
            if (outcome instanceof Outcome.Deleted d) {
                Mapping one = d.removed().size() == 1 ? d.removed().get(0) : null;
                return answer(new PcpResponse(request.opcode().wire(), PcpResultCode.SUCCESS, 0, table.epochSeconds(),
                        data.of(one), request.options()));
            }
            if (outcome instanceof Outcome.Refused r) {
                LOG.debug("pcp {} from {} refused: {}", request.opcode(), client.getHostAddress(), r.detail());
                if (r.reason() == Outcome.Reason.PINHOLES_DISABLED && pinholesRefusedLogged.compareAndSet(false, true)) {
                    LOG.info("answering NOT_AUTHORIZED to PCP MAP and PEER from IPv6 hosts: pinholes need linux-gateway"
                            + " mode with kernel forwarding (dataplane.mode: linux-gateway, dataplane.forwarding: kernel)");
                }
                return answer(error(request, resultFor(r.reason())));
            }
            return answer(error(request, PcpResultCode.MALFORMED_REQUEST));
        });
    }

    /** An error response: the error's lifetime, the request's data and options echoed (nonce, protocol, ports exact). */
    private PcpResponse error(PcpRequest request, PcpResultCode code) {
        return new PcpResponse(request.opcode().wire(), code, code.errorLifetime(), table.epochSeconds(),
                request.data(), request.options());
    }

    private byte[] answer(PcpResponse response) {
        stats.answered(response.result());
        return PcpCodec.encodeResponse(response);
    }

    private CompletableFuture<byte[]> done(PcpResponse response) {
        return CompletableFuture.completedFuture(answer(response));
    }

    /** The address told to clients: network.wan.reportedAddress, else the bind address. */
    private InetAddress external() {
        return network.reported(table.externalAddress());
    }

    /** The assigned external address for this internal host: its own for a pinhole (no translation), else the WAN's. */
    private InetAddress assigned(InetAddress internal) {
        return internal instanceof Inet6Address ? internal : external();
    }

    /**
     * A private, CGNAT or loopback external address (without network.wan.allowPrivate): a MAP or PEER answer
     * must carry an address and no address here is reachable, so it is NETWORK_FAILURE (RFC 6887 §7.4: "has
     * not yet obtained an external IP address"), short-lived so the client retries; deletes still work.
     */
    private boolean unreachable(InetAddress client, PcpRequest request) {
        var why = network.unreachable(table.externalAddress());
        why.ifPresent(w -> LOG.debug("pcp {} from {}: external address {} is {}: NETWORK_FAILURE", request.opcode(),
                client.getHostAddress(), external().getHostAddress(), w));
        return why.isPresent();
    }

    /**
     * The table's reasons as RFC 6887 §7.4 result codes. Pinholes: PINHOLES_DISABLED is NOT_AUTHORIZED ("the
     * requested operation is disabled for this PCP client", long-lived: it lasts until the gateway runs in
     * linux-gateway mode; RFC 6887 has no UNSUPP_FAMILY, a code of its drafts only); BAD_INTERNAL_ADDRESS is
     * NOT_AUTHORIZED as {@link #checkInternal} answers it; an internal port 0 (all ports) is MALFORMED_REQUEST, as for
     * a NAT mapping.
     */
    static PcpResultCode resultFor(Outcome.Reason reason) {
        return switch (reason) {
            case CONFLICT -> PcpResultCode.CANNOT_PROVIDE_EXTERNAL;
            case NOT_AUTHORIZED, PINHOLES_DISABLED, BAD_INTERNAL_ADDRESS -> PcpResultCode.NOT_AUTHORIZED;
            case QUOTA_EXCEEDED -> PcpResultCode.USER_EX_QUOTA;
            case NO_RESOURCES -> PcpResultCode.NO_RESOURCES;
            case INVALID, INTERNAL_PORT_WILDCARD -> PcpResultCode.MALFORMED_REQUEST;
            case UNAVAILABLE -> PcpResultCode.NETWORK_FAILURE;
            case NOT_FOUND -> PcpResultCode.SUCCESS;
        };
    }
}
