package io.natgw.persistence;

import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.Origin;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;

/** Mappings for tests: distinct, deterministic rows. */
final class Rows {

    static final Instant T0 = Instant.parse("2026-03-01T10:00:00.123456789Z");

    private Rows() {
    }

    static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal); // literals only: never resolves a name
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** A dynamic PCP lease of external port {@code port} for 127.0.0.2, expiring one hour after T0. */
    static Mapping lease(int port) {
        return new Mapping(Protocol.TCP, port, RemoteFilter.ANY, new Endpoint(ip("127.0.0.2"), port),
                Owner.of(ip("127.0.0.2"), Origin.PCP), "0123456789abcdef01234567", Kind.DYNAMIC, "lease " + port,
                T0, T0.plus(Duration.ofHours(1)), true);
    }

    static Mapping staticRow(int port) {
        return new Mapping(Protocol.UDP, port, RemoteFilter.ANY, new Endpoint(ip("127.0.0.3"), 7000 + port % 1000),
                Owner.of(ip("127.0.0.1"), Origin.CONFIG), "", Kind.STATIC, "static " + port, T0, null, true);
    }
}
