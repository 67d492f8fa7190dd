package io.natgw.pcp;

import io.natgw.core.Endpoint;
import io.natgw.core.MappingRequest;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import io.natgw.conf.NatgwConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** NAT-PMP (RFC 6886): decode, ask the table, encode. Completes with the reply, or null for no reply. */
final class NatPmpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(NatPmpHandler.class);
    private static final Inet4Address NO_ADDRESS = NatPmpCodec.ipv4(new byte[4]);

    private final MappingTable table;
    private final StatsCounter stats;
    private final NatgwConfig.Network network;

    NatPmpHandler(MappingTable table, StatsCounter stats, NatgwConfig.Network network) {
        this.table = table;
        this.stats = stats;
        this.network = network;
    }

    CompletableFuture<byte[]> handle(InetAddress client, ByteBuffer datagram) {
        NatPmpRequest request;
        try {
            request = NatPmpCodec.decodeRequest(datagram);
        } catch (PcpFormatException e) {
            LOG.debug("nat-pmp from {} ignored: {}", client.getHostAddress(), e.getMessage());
            stats.ignored();
            return CompletableFuture.completedFuture(null);
        }
        if (request instanceof NatPmpRequest.NotARequest n) {
            // RFC 6886 §3.5: opcodes of 128 and above are responses; a server ignores them.
            LOG.debug("nat-pmp from {} ignored: opcode {} is a response", client.getHostAddress(), n.opcode());
            stats.ignored();
            return CompletableFuture.completedFuture(null);
        }
        stats.natPmpRequest();
        if (request instanceof NatPmpRequest.Unsupported u) {
            return done(new NatPmpResponse.UnsupportedOpcode(u.raw()), NatPmpResultCode.UNSUPPORTED_OPCODE);
        }
        if (request instanceof NatPmpRequest.ExternalAddress) {
            // network.wan.reportedAddress is told instead of the bind address; a private, CGNAT or loopback
            // address is not usable from outside: result 3 and 0.0.0.0, as miniupnpd answers (unless allowPrivate).
            InetAddress external = network.reported(table.externalAddress());
            boolean usable = external instanceof Inet4Address && !external.isAnyLocalAddress()
                    && network.unreachable(table.externalAddress()).isEmpty();
            NatPmpResultCode code = usable ? NatPmpResultCode.SUCCESS : NatPmpResultCode.NETWORK_FAILURE;
            return done(new NatPmpResponse.ExternalAddress(code, table.epochSeconds(),
                    usable ? (Inet4Address) external : NO_ADDRESS), code);
        }
        return map(client, (NatPmpRequest.Map) request);
    }

    private CompletableFuture<byte[]> map(InetAddress client, NatPmpRequest.Map m) {
        Owner owner = Owner.of(client, Origin.NATPMP);
        MappingRequest request;
        if (m.lifetime() == 0) {
            // RFC 6886 §3.4: lifetime 0 deletes; internal port 0 too deletes all of the client's mappings of the protocol.
            request = new MappingRequest.DeleteInternal(owner, m.protocol(), client, m.internalPort(), "");
        } else {
            request = MappingRequest.Map.dynamic(owner, m.protocol(), new Endpoint(client, m.internalPort()),
                    m.suggestedExternalPort(), Duration.ofSeconds(m.lifetime()));
        }
        return table.submit(request).handle((outcome, failure) -> {
            if (failure != null) {
                LOG.warn("nat-pmp {} from {} failed in the table: {}", m, client.getHostAddress(), failure.toString());
                return reply(m, NatPmpResultCode.NETWORK_FAILURE, 0, 0);
            }
            if (outcome instanceof Outcome.Granted g) {
                long granted = g.mapping().permanent() ? m.lifetime() : Lifetimes.secondsLeft(g.mapping(), table.clock());
                return reply(m, NatPmpResultCode.SUCCESS, g.mapping().externalPort(), granted);
            }
            if (outcome instanceof Outcome.Deleted) {
                // RFC 6886 §3.4: a successful delete (also of nothing) answers external port 0, lifetime 0.
                return reply(m, NatPmpResultCode.SUCCESS, 0, 0);
            }
            Outcome.Refused r = (Outcome.Refused) outcome;
            LOG.debug("nat-pmp {} from {} refused: {}", m, client.getHostAddress(), r.detail());
            return reply(m, resultFor(r.reason()), 0, 0);
        });
    }

    private byte[] reply(NatPmpRequest.Map m, NatPmpResultCode code, int externalPort, long lifetime) {
        stats.answered(code);
        return NatPmpCodec.encodeResponse(new NatPmpResponse.Map(m.protocol(), code, table.epochSeconds(),
                m.internalPort(), externalPort, lifetime));
    }

    private CompletableFuture<byte[]> done(NatPmpResponse response, NatPmpResultCode code) {
        stats.answered(code);
        return CompletableFuture.completedFuture(NatPmpCodec.encodeResponse(response));
    }

    /** RFC 6886 §3.5 has only coarse codes: refused (2), network failure (3), out of resources (4). */
    static NatPmpResultCode resultFor(Outcome.Reason reason) {
        return switch (reason) {
            case NOT_AUTHORIZED, INVALID, PINHOLES_DISABLED, INTERNAL_PORT_WILDCARD, BAD_INTERNAL_ADDRESS ->
                    NatPmpResultCode.NOT_AUTHORIZED;
            case CONFLICT, QUOTA_EXCEEDED, NO_RESOURCES -> NatPmpResultCode.OUT_OF_RESOURCES;
            case UNAVAILABLE -> NatPmpResultCode.NETWORK_FAILURE;
            case NOT_FOUND -> NatPmpResultCode.SUCCESS;
        };
    }
}
