package io.natgw.gateway.admin;

import io.natgw.core.TestClock;

import com.fasterxml.jackson.databind.JsonNode;
import io.natgw.conf.ConfigLoader;
import io.natgw.conf.NatgwConfig;
import io.natgw.core.LeaseStore;
import io.natgw.dataplane.TriggerEngine;
import io.natgw.core.Forwarder;
import io.natgw.core.InMemoryLeaseStore;
import io.natgw.core.MappingTable;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A real mapping table (in-memory store, no dataplane) with a real {@link AdminServer} on 127.0.0.1:0 over
 * HTTPS, and an HTTP client that trusts only the certificate the server wrote into the data directory.
 */
final class AdminFixture implements AutoCloseable {

    final TestClock clock = new TestClock(Instant.parse("2026-11-21T06:00:00Z"));
    final NatgwConfig config;
    final MappingTable table;
    final AdminServer server;
    /** The dataplane's real trigger engine (no relays needed): where the API applies trigger rules. */
    final TriggerEngine triggers;
    final HttpClient http;
    final String base;
    final String token;

    AdminFixture(Path dataDir, boolean plainHttp) throws IOException {
        this(dataDir, plainHttp, new InMemoryLeaseStore(), UnaryOperator.identity());
    }

    AdminFixture(Path dataDir, boolean plainHttp, LeaseStore store, UnaryOperator<AdminHooks> hooks) throws IOException {
        this(dataDir, plainHttp, store, hooks, AdminLimits.DEFAULT);
    }

    AdminFixture(Path dataDir, boolean plainHttp, AdminLimits limits) throws IOException {
        this(dataDir, plainHttp, new InMemoryLeaseStore(), UnaryOperator.identity(), limits);
    }

    AdminFixture(Path dataDir, boolean plainHttp, LeaseStore store, UnaryOperator<AdminHooks> hooks, AdminLimits limits)
            throws IOException {
        this(dataDir, plainHttp, store, hooks, limits, Forwarder.NONE);
    }

    /** With a forwarder of the test's choosing (e.g. one that forwards pinholes). */
    AdminFixture(Path dataDir, Forwarder forwarder) throws IOException {
        this(dataDir, false, new InMemoryLeaseStore(), UnaryOperator.identity(), AdminLimits.DEFAULT, forwarder);
    }

    private AdminFixture(Path dataDir, boolean plainHttp, LeaseStore store, UnaryOperator<AdminHooks> hooks, AdminLimits limits,
                         Forwarder forwarder) throws IOException {
        this.config = forwarder.forwardsPinholes() ? withIpv6Clients(config(dataDir, 0, plainHttp)) : config(dataDir, 0, plainHttp);
        this.table = new MappingTable(config, store, forwarder, clock);
        this.triggers = new TriggerEngine(config.triggers(), clock);
        triggers.attach(table);
        this.server = new AdminServer(config, table, hooks.apply(AdminHooks.none().withTriggers(triggers::setRules)))
                .limits(limits);
        table.start();
        server.start();
        this.base = server.url().replaceAll("/$", "");
        this.token = AdminToken.read(new AdminFiles(dataDir).token());
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30));
        if (!plainHttp) {
            b.sslContext(TlsIdentity.trusting(new AdminFiles(dataDir).tlsCertificate()));
        }
        this.http = b.build();
    }

    /** The shipped defaults with a temp data directory and the admin listener on loopback. */
    static NatgwConfig config(Path dataDir, int adminPort, boolean plainHttp) {
        NatgwConfig d = ConfigLoader.defaults();
        return new NatgwConfig(d.source(), d.network(), dataDir, d.pcp(), d.upnp(),
                new NatgwConfig.Admin(true, List.of(InetAddress.getLoopbackAddress()), adminPort, plainHttp), d.limits(),
                d.permissions(), d.staticMappings(), d.triggers(), d.dataplane());
    }

    /** The same with the IPv6 LAN fd00:77::/64 among network.lan.clients (pinholes go to LAN clients only). */
    static NatgwConfig withIpv6Clients(NatgwConfig c) {
        NatgwConfig.Network n = c.network();
        List<io.natgw.conf.Cidr> clients = new java.util.ArrayList<>(n.lanClients());
        clients.add(io.natgw.conf.Cidr.parse("fd00:77::/64"));
        return new NatgwConfig(c.source(), new NatgwConfig.Network(n.lanAddresses(), clients, n.lanInterfaces(), n.wanAddress(),
                n.wanAuto(), n.wanInterface(), n.allowPrivate(), n.reportedAddress(), n.stun(), n.stunRetry(), n.stunRefresh()), c.dataDir(), c.pcp(), c.upnp(),
                c.admin(), c.limits(), c.permissions(), c.staticMappings(), c.triggers(), c.dataplane());
    }

    /** What one exchange returned: status and body, compared as one value. */
    record Reply(int status, JsonNode json, String text) {
        String error() {
            return json.path("error").asText();
        }

        String field() {
            return json.path("field").isNull() ? null : json.path("field").asText(null);
        }
    }

    Reply call(String method, String path, String body) throws IOException, InterruptedException {
        return call(method, path, body, token);
    }

    Reply call(String method, String path, String body, String bearer) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = null;
        if (r.headers().firstValue("Content-Type").orElse("").startsWith("application/json")) {
            json = Json.MAPPER.readTree(r.body());
        }
        return new Reply(r.statusCode(), json, r.body());
    }

    @Override
    public void close() throws IOException {
        server.close();
        table.close();
    }
}
