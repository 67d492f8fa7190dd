package io.natgw.gateway.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
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
import io.natgw.core.TrafficStats;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * The lease table endpoints. Every change is a {@link MappingRequest} from {@code Owner(client, ADMIN)}:
 * the table decides, this class only translates JSON to requests and outcomes to HTTP.
 */
final class MappingsApi {

    static final Set<String> CREATE_FIELDS = Set.of("protocol", "externalPort", "internalAddress", "internalPort",
            "description", "enabled", "remoteHost");
    static final int MAX_DESCRIPTION = 256;

    private final MappingTable table;
    private final TrafficStats traffic;

    MappingsApi(MappingTable table, TrafficStats traffic) {
        this.table = table;
        this.traffic = traffic;
    }

    /**
     * {@code GET /api/v1/mappings[?protocol=&kind=&family=]}: every row, in listing order (NAT mappings, then IPv6
     * pinholes); {@code family=ipv4} lists the NAT mappings only, {@code family=ipv6} the pinholes only.
     */
    ApiResponse list(ApiRequest r) throws ApiException {
        Protocol protocol = r.param("protocol") == null ? null : Routes.protocol(r.param("protocol"), "protocol");
        String kind = r.param("kind");
        if (kind != null && !Set.of("static", "dynamic", "triggered").contains(kind)) {
            throw ApiException.badField("kind", "kind '" + kind + "' is not known", "static, dynamic, triggered");
        }
        String family = r.param("family");
        if (family != null && !Set.of(MappingJson.IPV4, MappingJson.IPV6).contains(family)) {
            throw ApiException.badField("family", "family '" + family + "' is not known", "ipv4 (NAT mappings), ipv6 (pinholes)");
        }
        Instant now = table.clock().instant();
        InetAddress ext = table.externalAddress();
        List<MappingJson> rows = table.view().mappings().stream()
                .filter(m -> protocol == null || m.protocol() == protocol)
                .filter(m -> kind == null || m.kind().label().equals(kind))
                .filter(m -> family == null || m.pinhole() == family.equals(MappingJson.IPV6))
                .map(m -> MappingJson.of(m, ext, now, traffic))
                .toList();
        return ApiResponse.ok(new Listing(rows.size(), rows));
    }

    record Listing(int count, List<MappingJson> mappings) {
    }

    /** {@code GET /api/v1/mappings/{protocol}/{port}[?remote=][&host=]} ({@code host}: a pinhole's IPv6 address). */
    ApiResponse get(ApiRequest r, String protocol, String port) throws ApiException {
        MappingKey key = Routes.key(protocol, port, r.param("remote"), r.param("remotePort"), r.param("host"));
        Mapping m = table.view().find(key).orElseThrow(() -> ApiException.notFound("no mapping " + key));
        return ApiResponse.ok(MappingJson.of(m, table.externalAddress(), table.clock().instant(), traffic));
    }

    /**
     * {@code POST /api/v1/mappings}: a static mapping; the whole body is checked before the table sees it. An IPv6
     * {@code internalAddress} asks for a static IPv6 pinhole: no translation, so its port is the internal port
     * ({@code externalPort} may be left out; when given it must equal it). The table refuses pinholes unless the
     * dataplane forwards them (linux-gateway mode with kernel forwarding): 409 and nothing added.
     */
    CompletableFuture<ApiResponse> create(ApiRequest r) throws ApiException {
        ObjectNode o = Json.object(r.body(), CREATE_FIELDS);
        Protocol protocol = Routes.protocol(Json.text(o, "protocol", true, "tcp, udp"), "protocol");
        boolean looksV6 = o.hasNonNull("internalAddress") && o.get("internalAddress").isTextual()
                && o.get("internalAddress").asText().contains(":");
        int external = Json.port(o, "externalPort", 1, !looksV6 || !o.has("internalPort"), 0);
        InetAddress internalAddress = Routes.address(Json.text(o, "internalAddress", true, "an IP address literal"), "internalAddress");
        boolean pinhole = internalAddress instanceof Inet6Address;
        int internalPort = Json.port(o, "internalPort", 1, false, external);
        if (pinhole && o.has("externalPort") && o.has("internalPort") && external != internalPort) {
            throw ApiException.badField("externalPort", "a pinhole opens the internal port itself: externalPort " + external
                    + " is not internalPort " + internalPort, "the internal port, or no externalPort");
        }
        if (pinhole) {
            external = internalPort;
        }
        String description = Json.text(o, "description", false, "a string");
        if (description != null && description.length() > MAX_DESCRIPTION) {
            throw ApiException.badField("description", "description has " + description.length() + " characters",
                    "at most " + MAX_DESCRIPTION + " characters");
        }
        boolean enabled = Json.bool(o, "enabled", true);
        String remoteHost = Json.text(o, "remoteHost", false, "an IP address literal or empty");
        RemoteFilter remote = remoteHost == null || remoteHost.isEmpty() ? RemoteFilter.ANY
                : RemoteFilter.host(Routes.address(remoteHost, "remoteHost"));
        Owner admin = Owner.of(r.client(), Origin.ADMIN);
        MappingRequest.Map request = new MappingRequest.Map(admin, protocol, new Endpoint(internalAddress, internalPort),
                external, remote, Duration.ZERO, Kind.STATIC, description, "", MappingRequest.OnConflict.FAIL, enabled,
                !internalAddress.equals(r.client()));
        MappingKey key = pinhole ? MappingKey.pinhole(protocol, (Inet6Address) internalAddress, internalPort, remote)
                : new MappingKey(protocol, external, remote);
        Mapping before = table.view().find(key).orElse(null);
        return table.submit(request).thenApply(outcome -> {
            if (outcome instanceof Outcome.Granted g) {
                MappingJson now = MappingJson.of(g.mapping(), table.externalAddress(), table.clock().instant(), traffic);
                if (!g.refreshed() || before == null || !before.owner().equals(g.mapping().owner())) {
                    return ApiResponse.json(g.refreshed() ? HttpResponseStatus.OK : HttpResponseStatus.CREATED, now);
                }
                // the admin's own row on this port was changed: say what it was, so nobody re-points a port unawares
                ObjectNode body = Json.MAPPER.valueToTree(now);
                body.set("replaced", Json.MAPPER.valueToTree(MappingJson.of(before, table.externalAddress(),
                        table.clock().instant(), traffic)));
                return ApiResponse.json(HttpResponseStatus.OK, body);
            }
            return outcome instanceof Outcome.Refused f ? refused(f, pinhole ? "internalPort" : "externalPort") : unexpected(outcome);
        });
    }

    /** {@code DELETE /api/v1/mappings/{protocol}/{port}[?remote=][&host=]}: admins may delete any row, pinholes too. */
    CompletableFuture<ApiResponse> delete(ApiRequest r, String protocol, String port) throws ApiException {
        MappingKey key = Routes.key(protocol, port, r.param("remote"), r.param("remotePort"), r.param("host"));
        return table.submit(new MappingRequest.Delete(Owner.of(r.client(), Origin.ADMIN), key)).thenApply(this::deleted);
    }

    /**
     * {@code DELETE /api/v1/mappings?description=TEXT} or {@code ?owner=IP} (uninstallers): every row whose
     * description equals TEXT exactly, or that the client IP made itself through UPnP, NAT-PMP or PCP, in one
     * request. Static, admin and triggered mappings are never deleted by owner.
     */
    CompletableFuture<ApiResponse> deleteMatching(ApiRequest r) throws ApiException {
        String description = r.param("description");
        String owner = r.param("owner");
        for (String p : r.query().keySet()) {
            if (!p.equals("description") && !p.equals("owner")) {
                throw ApiException.badField(p, "unknown parameter '" + p + "'", "description=TEXT or owner=IP");
            }
        }
        if ((description == null) == (owner == null)) {
            throw ApiException.badField(description == null ? "description" : "owner",
                    "name exactly one of description and owner", "?description=TEXT or ?owner=IP");
        }
        Predicate<Mapping> selector;
        String what;
        if (description != null) {
            if (description.isEmpty()) {
                throw ApiException.badField("description", "an empty description would match every unnamed mapping",
                        "a non-empty description");
            }
            selector = m -> m.description().equals(description);
            what = "description '" + description + "'";
        } else {
            InetAddress a = Routes.address(owner, "owner");
            // Only what the client made itself (UPnP, NAT-PMP, PCP): not static, admin or trigger rows whose
            // owner or internal address happens to be the same host (an admin working from 127.0.0.1, the config).
            selector = m -> m.owner().address().equals(a) && isClientOrigin(m.owner().origin());
            what = "owner " + a.getHostAddress();
        }
        return table.submit(new MappingRequest.DeleteMatching(Owner.of(r.client(), Origin.ADMIN), what, selector))
                .thenApply(this::deleted);
    }

    private static boolean isClientOrigin(Origin o) {
        return o == Origin.UPNP || o == Origin.NATPMP || o == Origin.PCP;
    }

    private ApiResponse deleted(Outcome outcome) {
        Instant now = table.clock().instant();
        if (outcome instanceof Outcome.Deleted d) {
            return ApiResponse.ok(new Listing(d.removed().size(),
                    d.removed().stream().map(m -> MappingJson.of(m, table.externalAddress(), now, traffic)).toList()));
        }
        return outcome instanceof Outcome.Refused f ? refused(f, null) : unexpected(outcome);
    }

    private static ApiResponse unexpected(Outcome outcome) {
        return ApiResponse.json(HttpResponseStatus.INTERNAL_SERVER_ERROR,
                new ApiException.ErrorBody("unexpected outcome " + outcome, null, null));
    }

    static ApiResponse refused(Outcome.Refused f, String field) {
        HttpResponseStatus status = switch (f.reason()) {
            case CONFLICT -> HttpResponseStatus.CONFLICT;
            case NOT_AUTHORIZED -> HttpResponseStatus.FORBIDDEN;
            case NO_RESOURCES, QUOTA_EXCEEDED -> HttpResponseStatus.INSUFFICIENT_STORAGE;
            case INVALID, INTERNAL_PORT_WILDCARD, BAD_INTERNAL_ADDRESS -> HttpResponseStatus.BAD_REQUEST;
            // a state of this gateway, not the caller's rights (the CLI reads a 403 naming the Authorization header
            // as a refused token)
            case PINHOLES_DISABLED -> HttpResponseStatus.CONFLICT;
            case NOT_FOUND -> HttpResponseStatus.NOT_FOUND;
            case UNAVAILABLE -> HttpResponseStatus.SERVICE_UNAVAILABLE;
        };
        String accepted = switch (f.reason()) {
            case CONFLICT -> "internalPort".equals(field) ? "a port no other owner's pinhole holds on that host" : "a free external port";
            case PINHOLES_DISABLED -> "IPv6 pinholes in dataplane.mode linux-gateway with dataplane.forwarding kernel";
            case BAD_INTERNAL_ADDRESS -> "a global or unique-local IPv6 unicast address";
            default -> null;
        };
        String named = switch (f.reason()) {
            case CONFLICT -> field;
            case PINHOLES_DISABLED, BAD_INTERNAL_ADDRESS -> field == null ? null : "internalAddress";
            case INTERNAL_PORT_WILDCARD -> field == null ? null : "internalPort";
            default -> null;
        };
        return ApiResponse.json(status, new ApiException.ErrorBody(
                f.reason().name().toLowerCase(java.util.Locale.ROOT) + ": " + f.detail(), named, accepted));
    }
}
