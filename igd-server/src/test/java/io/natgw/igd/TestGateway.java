package io.natgw.igd;

import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import io.natgw.core.TrafficStats;
import io.natgw.core.Forwarder;
import io.natgw.core.InMemoryLeaseStore;
import io.natgw.core.LeaseStore;
import io.natgw.core.MappingTable;
import io.natgw.core.WanLink;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * A real table (in-memory store, no dataplane) and a real IgdServer on loopback, HTTP on port 0. SSDP is off
 * unless a port is given: tests that search use their own port so parallel runs do not share 1900.
 */
final class TestGateway implements AutoCloseable {

    static final InetAddress LAN = address("127.0.0.1");
    static final InetAddress WAN = address("127.0.1.1");

    final NatgwConfig config;
    final MappingTable table;
    final IgdServer igd;

    private TestGateway(NatgwConfig config, int ssdpPort, WanLink link, Clock clock) throws Exception {
        this(config, ssdpPort, link, clock, igd -> igd.requestTimeout(java.time.Duration.ofMillis(1500)));
    }

    private TestGateway(NatgwConfig config, int ssdpPort, WanLink link, Clock clock,
                        java.util.function.UnaryOperator<IgdServer> tune) throws Exception {
        this(config, ssdpPort, link, TrafficStats.NONE, clock, tune, Forwarder.NONE, new InMemoryLeaseStore());
    }

    private TestGateway(NatgwConfig config, int ssdpPort, WanLink link, TrafficStats traffic, Clock clock,
                        java.util.function.UnaryOperator<IgdServer> tune, Forwarder forwarder, LeaseStore store)
            throws Exception {
        this.config = config;
        this.table = new MappingTable(config, store, forwarder, clock);
        this.igd = tune.apply(new IgdServer(config, table, link, traffic, ssdpPort));
        table.start();
        try {
            igd.start();
        } catch (RuntimeException e) {
            table.close();
            throw e;
        }
    }

    static TestGateway start() throws Exception {
        return new TestGateway(config(true, 128), 0, TestLink.up(), Clock.systemUTC());
    }

    static TestGateway start(NatgwConfig config, int ssdpPort, WanLink link) throws Exception {
        return new TestGateway(config, ssdpPort, link, Clock.systemUTC());
    }

    /** With the forwarder of the test's choosing (whether pinholes are forwarded is the forwarder's answer). */
    static TestGateway start(NatgwConfig config, Forwarder forwarder, TrafficStats traffic) throws Exception {
        return new TestGateway(config, 0, TestLink.up(), traffic, Clock.systemUTC(),
                igd -> igd.requestTimeout(java.time.Duration.ofMillis(1500)), forwarder, new InMemoryLeaseStore());
    }

    /** With the lease store of the test's choosing (one that holds its commits stands for a slow disk). */
    static TestGateway start(LeaseStore store, java.util.function.UnaryOperator<IgdServer> tune) throws Exception {
        return new TestGateway(config(true, 128), 0, TestLink.up(), TrafficStats.NONE, Clock.systemUTC(), tune,
                Forwarder.NONE, store);
    }

    /** With the IgdServer's limits of the test's choosing (request deadline, connection caps). */
    static TestGateway start(java.util.function.UnaryOperator<IgdServer> tune) throws Exception {
        return new TestGateway(config(true, 128), 0, TestLink.up(), Clock.systemUTC(), tune);
    }

    /** With a clock of the test's choosing (the SSDP rate limit reads it). */
    static TestGateway start(NatgwConfig config, int ssdpPort, Clock clock) throws Exception {
        return new TestGateway(config, ssdpPort, TestLink.up(), clock);
    }

    static NatgwConfig config(boolean secureMode, int quota) {
        return new NatgwConfig(Path.of("<test>"),
                new NatgwConfig.Network(List.of(LAN), List.of(Cidr.parse("127.0.0.0/8")), List.of("lo"), WAN, false, "lo"),
                Path.of("target/igd-test-data"),
                new NatgwConfig.Pcp(false, 5351, new NatgwConfig.Lifetimes(Duration.ofSeconds(120), Duration.ofHours(24)),
                        false, List.of(), 100, false),
                new NatgwConfig.Upnp(true, 0, true, Duration.ofHours(2), Duration.ofDays(7), "natgw test"),
                new NatgwConfig.Admin(false, List.of(LAN), 0, true),
                new NatgwConfig.Limits(secureMode, quota, 1024),
                List.of(), List.of(), List.of(),
                new NatgwConfig.Dataplane(false, NatgwConfig.DataplaneMode.USERSPACE, NatgwConfig.RelayMode.COPY,
                        Duration.ofSeconds(5), Duration.ofSeconds(120), 64, false));
    }

    URI description(int version) {
        return igd.descriptionUrl(version, LAN);
    }

    /** The control URL of the WANIPConnection service of the tree, as a client reads it from the description. */
    URI control(int version) throws Exception {
        return Descriptions.controlUrl(description(version), "urn:schemas-upnp-org:service:WANIPConnection:" + version);
    }

    Soap soap(int version) throws Exception {
        return new Soap(control(version), "urn:schemas-upnp-org:service:WANIPConnection:" + version);
    }

    static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Override
    public void close() throws Exception {
        igd.close();
        table.close();
    }
}
