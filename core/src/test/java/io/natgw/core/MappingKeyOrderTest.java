package io.natgw.core;

import io.natgw.conf.Protocol;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The table's listing order of keys, which every sorted index of the table relies on. */
class MappingKeyOrderTest {

    @Test
    void natMappingsThenPinholesEachByProtocolPortFilterAndHost() throws Exception {
        List<MappingKey> expected = List.of(
                MappingKey.of(Protocol.TCP, 80),
                new MappingKey(Protocol.TCP, 80, new RemoteFilter(ip("198.51.100.7"), 32, 0)),
                new MappingKey(Protocol.TCP, 80, new RemoteFilter(ip("198.51.100.7"), 32, 5000)),
                new MappingKey(Protocol.TCP, 80, new RemoteFilter(ip("203.0.113.9"), 32, 0)),
                MappingKey.of(Protocol.TCP, 81),
                MappingKey.of(Protocol.TCP, 65535),
                MappingKey.of(Protocol.UDP, 1),
                MappingKey.of(Protocol.UDP, 80),
                MappingKey.pinhole(Protocol.TCP, v6("fd00:77::10"), 22, RemoteFilter.ANY),
                MappingKey.pinhole(Protocol.TCP, v6("fd00:77::10"), 80, RemoteFilter.ANY),
                MappingKey.pinhole(Protocol.TCP, v6("fd00:77::9"), 80, new RemoteFilter(ip("2001:db8::1"), 128, 0)),
                MappingKey.pinhole(Protocol.UDP, v6("fd00:77::2"), 1, RemoteFilter.ANY));
        // Same protocol, port and filter: the pinholes' hosts decide, unsigned byte by byte.
        List<MappingKey> hosts = List.of(
                MappingKey.pinhole(Protocol.UDP, v6("fd00:77::2"), 5, RemoteFilter.ANY),
                MappingKey.pinhole(Protocol.UDP, v6("fd00:77::10"), 5, RemoteFilter.ANY),
                MappingKey.pinhole(Protocol.UDP, v6("fe80::1"), 5, RemoteFilter.ANY));
        for (List<MappingKey> order : List.of(expected, hosts)) {
            Random random = new Random(7);
            for (int round = 0; round < 20; round++) {
                List<MappingKey> shuffled = new ArrayList<>(order);
                Collections.shuffle(shuffled, random);
                Collections.sort(shuffled);
                assertEquals(order, shuffled);
                TreeMap<MappingKey, Integer> index = new TreeMap<>();
                shuffled.forEach(k -> index.put(k, 0));
                assertEquals(order, List.copyOf(index.keySet()), "a sorted index keeps every key once, in order");
            }
            for (MappingKey a : order) {
                for (MappingKey b : order) {
                    assertEquals(Integer.signum(a.compareTo(b)), -Integer.signum(b.compareTo(a)), a + " vs " + b);
                    assertEquals(a.equals(b), a.compareTo(b) == 0, "consistent with equals: " + a + " vs " + b);
                }
                assertEquals(0, a.compareTo(new MappingKey(a.protocol(), a.externalPort(), a.remote(), a.host())));
            }
        }
    }

    private static InetAddress ip(String literal) throws UnknownHostException {
        return InetAddress.getByName(literal);
    }

    private static java.net.Inet6Address v6(String literal) throws UnknownHostException {
        return (java.net.Inet6Address) InetAddress.getByName(literal);
    }
}
