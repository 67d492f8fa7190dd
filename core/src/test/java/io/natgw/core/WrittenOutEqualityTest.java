package io.natgw.core;

import io.natgw.conf.Cidr;
import io.natgw.conf.Protocol;
import org.junit.jupiter.api.Test;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Instant;
import java.util.List;

/**
 * The records whose equals and hashCode are written out (MappingKey, Owner, Endpoint, Mapping, TableState.InternalKey,
 * conf's Cidr)
 * keep the record's own equality: every component counts, copies are equal with equal hashes.
 */
class WrittenOutEqualityTest {

    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    private static Inet6Address ip6(String s) throws Exception {
        return (Inet6Address) InetAddress.getByName(s);
    }

    @Test
    void mappingKey() throws Exception {
        MappingKey pinhole = MappingKey.pinhole(Protocol.TCP, ip6("fd00:77::10"), 6000, RemoteFilter.ANY);
        MappingKey nat = MappingKey.of(Protocol.TCP, 6000);
        RecordEquality.check(MappingKey.class,
                List.of(pinhole, MappingKey.pinhole(Protocol.UDP, ip6("fd00:77::10"), 6000, RemoteFilter.ANY)),
                List.of(pinhole, MappingKey.pinhole(Protocol.TCP, ip6("fd00:77::10"), 6001, RemoteFilter.ANY)),
                List.of(pinhole, MappingKey.pinhole(Protocol.TCP, ip6("fd00:77::10"), 6000, RemoteFilter.host(ip("2001:db8::2")))),
                List.of(pinhole, MappingKey.pinhole(Protocol.TCP, ip6("fd00:77::11"), 6000, RemoteFilter.ANY)),
                List.of(nat, new MappingKey(Protocol.TCP, 6000, RemoteFilter.ANY, ip6("fd00:77::10"))));
    }

    @Test
    void cidr() throws Exception {
        Cidr c = Cidr.parse("192.168.77.0/24");
        RecordEquality.check(Cidr.class,
                List.of(c, Cidr.parse("192.168.78.0/24")),
                List.of(c, Cidr.parse("192.168.77.0/25")));
    }

    @Test
    void owner() throws Exception {
        Owner o = Owner.of(ip("192.168.77.10"), Origin.PCP);
        RecordEquality.check(Owner.class,
                List.of(o, Owner.of(ip("192.168.77.11"), Origin.PCP)),
                List.of(o, Owner.of(ip("192.168.77.10"), Origin.NATPMP)));
    }

    @Test
    void endpoint() throws Exception {
        Endpoint e = new Endpoint(ip("192.168.77.10"), 6000);
        RecordEquality.check(Endpoint.class,
                List.of(e, new Endpoint(ip("192.168.77.11"), 6000)),
                List.of(e, new Endpoint(ip("192.168.77.10"), 6001)));
    }

    @Test
    void internalKey() throws Exception {
        Owner o = Owner.of(ip("192.168.77.10"), Origin.PCP);
        Endpoint e = new Endpoint(ip("192.168.77.10"), 6000);
        TableState.InternalKey k = new TableState.InternalKey(o, Protocol.TCP, e, RemoteFilter.ANY);
        RecordEquality.check(TableState.InternalKey.class,
                List.of(k, new TableState.InternalKey(Owner.of(ip("192.168.77.10"), Origin.UPNP), Protocol.TCP, e, RemoteFilter.ANY)),
                List.of(k, new TableState.InternalKey(o, Protocol.UDP, e, RemoteFilter.ANY)),
                List.of(k, new TableState.InternalKey(o, Protocol.TCP, new Endpoint(ip("192.168.77.10"), 6001), RemoteFilter.ANY)),
                List.of(k, new TableState.InternalKey(o, Protocol.TCP, e, RemoteFilter.host(ip("203.0.113.2")))));
    }

    @Test
    void mapping() throws Exception {
        Instant t0 = Instant.parse("2026-12-07T20:00:00Z");
        Instant t1 = t0.plusSeconds(3600);
        Owner o = Owner.of(ip("192.168.77.10"), Origin.PCP);
        Endpoint in = new Endpoint(ip("192.168.77.10"), 6000);
        Mapping m = new Mapping(Protocol.TCP, 6000, RemoteFilter.ANY, in, o, "n", Kind.DYNAMIC, "d", t0, t1, true, 0);
        Endpoint in6 = new Endpoint(ip("fd00:77::10"), 6000);
        Mapping hole = new Mapping(Protocol.TCP, 6000, RemoteFilter.ANY, in6, o, "n", Kind.DYNAMIC, "d", t0, t1, true, 7);
        RecordEquality.check(Mapping.class,
                List.of(m, new Mapping(Protocol.UDP, 6000, RemoteFilter.ANY, in, o, "n", Kind.DYNAMIC, "d", t0, t1, true, 0)),
                List.of(m, new Mapping(Protocol.TCP, 6001, RemoteFilter.ANY, in, o, "n", Kind.DYNAMIC, "d", t0, t1, true, 0)),
                List.of(m, new Mapping(Protocol.TCP, 6000, RemoteFilter.host(ip("203.0.113.2")), in, o, "n", Kind.DYNAMIC, "d", t0, t1, true, 0)),
                List.of(m, new Mapping(Protocol.TCP, 6000, RemoteFilter.ANY, new Endpoint(ip("192.168.77.10"), 6001), o, "n", Kind.DYNAMIC, "d", t0, t1, true, 0)),
                List.of(m, new Mapping(Protocol.TCP, 6000, RemoteFilter.ANY, in, Owner.of(ip("192.168.77.10"), Origin.NATPMP), "n", Kind.DYNAMIC, "d", t0, t1, true, 0)),
                List.of(m, new Mapping(Protocol.TCP, 6000, RemoteFilter.ANY, in, o, "m", Kind.DYNAMIC, "d", t0, t1, true, 0)),
                List.of(m, new Mapping(Protocol.TCP, 6000, RemoteFilter.ANY, in, o, "n", Kind.TRIGGERED, "d", t0, t1, true, 0)),
                List.of(m, new Mapping(Protocol.TCP, 6000, RemoteFilter.ANY, in, o, "n", Kind.DYNAMIC, "e", t0, t1, true, 0)),
                List.of(m, new Mapping(Protocol.TCP, 6000, RemoteFilter.ANY, in, o, "n", Kind.DYNAMIC, "d", t0.plusSeconds(1), t1, true, 0)),
                List.of(m, new Mapping(Protocol.TCP, 6000, RemoteFilter.ANY, in, o, "n", Kind.DYNAMIC, "d", t0, t1.plusSeconds(1), true, 0)),
                List.of(m, new Mapping(Protocol.TCP, 6000, RemoteFilter.ANY, in, o, "n", Kind.DYNAMIC, "d", t0, t1, false, 0)),
                List.of(hole, new Mapping(Protocol.TCP, 6000, RemoteFilter.ANY, in6, o, "n", Kind.DYNAMIC, "d", t0, t1, true, 8)));
    }
}
