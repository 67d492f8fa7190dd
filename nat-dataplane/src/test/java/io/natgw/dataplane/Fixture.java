package io.natgw.dataplane;

import io.natgw.core.TestClock;

import io.natgw.conf.ConfigLoader;
import io.natgw.conf.NatgwConfig;
import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.InMemoryLeaseStore;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.MappingRequest;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;

/** A real table over a real dataplane on loopback: LAN 127.0.0.0/24, WAN 127.0.1.1. */
final class Fixture implements AutoCloseable {

    static final InetAddress WAN = addr("127.0.1.1");
    static final InetAddress LAN_HOST = addr("127.0.0.1");

    final TestClock clock = new TestClock();
    final NatgwConfig config;
    final Dataplane dataplane;
    final MappingTable table;

    Fixture(String dataplaneYaml) {
        this(dataplaneYaml, "");
    }

    Fixture(String dataplaneYaml, String extraYaml) {
        this(dataplaneYaml, extraYaml, RelayTuning.DEFAULTS);
    }

    Fixture(String dataplaneYaml, String extraYaml, RelayTuning tuning) {
        config = config(dataplaneYaml, extraYaml);
        dataplane = new Dataplane(config, clock, tuning);
        dataplane.start();
        table = new MappingTable(config, new InMemoryLeaseStore(), dataplane, clock);
        dataplane.attach(table);
        table.addListener(dataplane);
        try {
            table.start();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static NatgwConfig config(String dataplaneYaml, String extraYaml) {
        String yaml = "network:\n  lan:\n    addresses: [127.0.0.1]\n    clients: [127.0.0.0/24]\n"
                + "  wan:\n    address: 127.1.1.1\n".replace("127.1.1.1", WAN.getHostAddress())
                + "permissions: []\n"
                + "dataplane:\n" + dataplaneYaml.indent(2)
                + extraYaml;
        try {
            return ConfigLoader.parse(yaml, Path.of("test.yaml"));
        } catch (io.natgw.conf.ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** An admin mapping (no secure-mode or permission limits) of {@code externalPort} to {@code internal}. */
    Mapping map(Protocol p, int externalPort, Endpoint internal, RemoteFilter remote) {
        Outcome o = request(p, externalPort, internal, remote);
        if (o instanceof Outcome.Granted g) {
            return g.mapping();
        }
        throw new AssertionError("not granted: " + o);
    }

    /** Port 0: any free port (ALTERNATIVE); else exactly that port (FAIL). */
    Outcome request(Protocol p, int externalPort, Endpoint internal, RemoteFilter remote) {
        return table.apply(new MappingRequest.Map(Owner.of(LAN_HOST, Origin.ADMIN), p, internal, externalPort, remote,
                Duration.ofHours(1), Kind.DYNAMIC, "test", "",
                externalPort == 0 ? MappingRequest.OnConflict.ALTERNATIVE : MappingRequest.OnConflict.FAIL, true, true));
    }

    Mapping map(Protocol p, Endpoint internal) {
        return map(p, 0, internal, RemoteFilter.ANY);
    }

    Mapping disable(Mapping m) {
        Outcome o = table.apply(new MappingRequest.Map(Owner.of(LAN_HOST, Origin.ADMIN), m.protocol(), m.internal(),
                m.externalPort(), m.remote(), Duration.ofHours(1), Kind.DYNAMIC, "test", "", MappingRequest.OnConflict.FAIL,
                false, true));
        if (o instanceof Outcome.Granted g) {
            return g.mapping();
        }
        throw new AssertionError("not granted: " + o);
    }

    Outcome delete(Mapping m) {
        return table.apply(new MappingRequest.Delete(Owner.of(LAN_HOST, Origin.ADMIN), m.key()));
    }

    static InetAddress addr(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Override
    public void close() throws Exception {
        table.close();
        dataplane.close();
    }
}
