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
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** PCP (RFC 6887): decode, ask the table, encode. Completes with the reply, or null for no reply. */
final class PcpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(PcpHandler.class);

    private final MappingTable table;
    private final StatsCounter stats;

    private final NatgwConfig.Network network;

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
        Protocol protocol = Protocol.ofIana(d.protocol());
        if (request.lifetime() == 0) {
            if (protocol == null && d.protocol() != 0) {
                return done(error(request, PcpResultCode.UNSUPP_PROTOCOL));
            }
            // RFC 6887 §15: lifetime 0 deletes; protocol 0 / internal port 0 mean all; the nonce must match.
            MappingRequest.DeleteInternal delete = new MappingRequest.DeleteInternal(owner, protocol, internal,
                    d.internalPort(), d.nonce().hex());
            return submit(request, delete, mapping -> new PcpOpcodeData.MapData(d.nonce(), d.protocol(),
                    d.internalPort(), mapping == null ? d.externalPort() : mapping.externalPort(), external()));
        }
        if (protocol == null) {
            return done(error(request, PcpResultCode.UNSUPP_PROTOCOL));
        }
        if (unreachable(client, request)) {
            return done(error(request, PcpResultCode.NETWORK_FAILURE));
        }
        boolean preferFailure = request.option(PcpOption.PreferFailure.class).isPresent();
        if (preferFailure && d.externalPort() == 0) {
            return done(error(request, PcpResultCode.MALFORMED_OPTION)); // PREFER_FAILURE needs a suggested port
        }
        if (preferFailure && !PcpCodec.unspecified(d.externalAddress()) && !d.externalAddress().equals(external())) {
            return done(error(request, PcpResultCode.CANNOT_PROVIDE_EXTERNAL)); // §13.2: that address is not ours
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
                d.externalPort(), remote, Duration.ofSeconds(request.lifetime()), Kind.DYNAMIC, description,
                d.nonce().hex(), preferFailure ? OnConflict.FAIL : OnConflict.ALTERNATIVE, true, thirdParty);
        return submit(request, map, mapping -> new PcpOpcodeData.MapData(d.nonce(), d.protocol(), d.internalPort(),
                mapping.externalPort(), external()));
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
        if (unreachable(client, request)) { // a PEER never deletes (lifetime 0 is clamped), so always
            return done(error(request, PcpResultCode.NETWORK_FAILURE));
        }
        Owner owner = Owner.of(client, Origin.PCP);
        InetAddress internal = request.option(PcpOption.ThirdParty.class).map(PcpOption.ThirdParty::internalAddress).orElse(client);
        boolean thirdParty = request.option(PcpOption.ThirdParty.class).isPresent();
        if (!sameFamily(d.remoteAddress(), internal)) {
            return done(error(request, PcpResultCode.MALFORMED_REQUEST)); // no NAT64 here: the peer is of the host's family
        }
        String description = request.option(PcpOption.Description.class).map(PcpOption.Description::text).orElse("");
        // The implicit dynamic mapping of that flow: only the peer may come in. A PEER cannot delete (lifetime 0 is
        // clamped by the table like any other).
        RemoteFilter remote = new RemoteFilter(d.remoteAddress(), d.remoteAddress().getAddress().length * 8, d.remotePort());
        MappingRequest.Map map = new MappingRequest.Map(owner, protocol, new Endpoint(internal, d.internalPort()),
                d.externalPort(), remote, Duration.ofSeconds(request.lifetime()), Kind.DYNAMIC, description,
                d.nonce().hex(), OnConflict.ALTERNATIVE, true, thirdParty);
        return submit(request, map, mapping -> new PcpOpcodeData.PeerData(d.nonce(), d.protocol(), d.internalPort(),
                mapping.externalPort(), external(), d.remotePort(), d.remoteAddress()));
    }

    private static boolean sameFamily(InetAddress a, InetAddress b) {
        return a.getAddress().length == b.getAddress().length;
    }

    // ---- answering ----

    private interface DataFor {
        PcpOpcodeData of(Mapping mapping);
    }

    private CompletableFuture<byte[]> submit(PcpRequest request, MappingRequest change, DataFor data) {
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
                LOG.debug("pcp {} refused: {}", request.opcode(), r.detail());
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

    /** The table's reasons as RFC 6887 §7.4 result codes. */
    static PcpResultCode resultFor(Outcome.Reason reason) {
        return switch (reason) {
            case CONFLICT -> PcpResultCode.CANNOT_PROVIDE_EXTERNAL;
            case NOT_AUTHORIZED -> PcpResultCode.NOT_AUTHORIZED;
            case QUOTA_EXCEEDED -> PcpResultCode.USER_EX_QUOTA;
            case NO_RESOURCES -> PcpResultCode.NO_RESOURCES;
            case INVALID, INTERNAL_PORT_WILDCARD, BAD_INTERNAL_ADDRESS -> PcpResultCode.MALFORMED_REQUEST;
            case PINHOLES_DISABLED -> PcpResultCode.NOT_AUTHORIZED;
            case UNAVAILABLE -> PcpResultCode.NETWORK_FAILURE;
            case NOT_FOUND -> PcpResultCode.SUCCESS;
        };
    }
}
