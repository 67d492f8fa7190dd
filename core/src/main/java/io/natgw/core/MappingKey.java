package io.natgw.core;

import io.natgw.conf.Protocol;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.Objects;

/**
 * What identifies a row in the table. For a NAT mapping ({@code host} null): protocol, external port on the WAN
 * address, and the remote filter that narrows it. For an IPv6 pinhole: protocol, the internal host's IPv6 address
 * ({@code host}), its port ({@code externalPort}, which for a pinhole is the internal port: no translation) and
 * the remote filter.
 *
 * @param host null for a NAT mapping; the pinhole's internal IPv6 address for a pinhole
 */
public record MappingKey(Protocol protocol, int externalPort, RemoteFilter remote, InetAddress host)
        implements Comparable<MappingKey> {

    /**
     * Listing order: NAT mappings first, then pinholes; within each, protocol, then port, then filter (any first, then
     * by the filter's text), then (pinholes) the host address. Stable while the table changes. Written out rather
     * than as a chain of comparators: every index of the table compares keys on the writer thread, and under C1 a
     * chain of lambdas (with the pinhole flag boxed) cost several times this.
     */
    @Override
    public int compareTo(MappingKey o) {
        if (pinhole() != o.pinhole()) {
            return pinhole() ? 1 : -1;
        }
        int c = protocol.compareTo(o.protocol);
        if (c != 0) {
            return c;
        }
        c = Integer.compare(externalPort, o.externalPort);
        if (c != 0) {
            return c;
        }
        if (!remote.equals(o.remote)) {
            c = remote.toString().compareTo(o.remote.toString());
            if (c != 0) {
                return c;
            }
        }
        return host == null || o.host == null ? 0 : Arrays.compareUnsigned(host.getAddress(), o.host.getAddress());
    }

    /**
     * Written out like {@link #compareTo}: a record's generated equals and hashCode run through method handles, which C1 does not inline (about 13 times
     * the cost of this, measured), and the table's indexes and the relays' budgets hash keys on every request and
     * connection. The same components as the record's own equality.
     */
    @Override
    public boolean equals(Object o) {
        return this == o || o instanceof MappingKey k && externalPort == k.externalPort && protocol == k.protocol
                && remote.equals(k.remote) && Objects.equals(host, k.host);
    }

    @Override
    public int hashCode() {
        return ((protocol.ordinal() * 31 + externalPort) * 31 + remote.hashCode()) * 31 + Objects.hashCode(host);
    }

    public MappingKey {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(remote, "remote");
        if (host != null && !(host instanceof Inet6Address)) {
            throw new IllegalArgumentException("a pinhole's host is an IPv6 address, not " + host.getHostAddress());
        }
    }

    /** A NAT mapping's key: on the WAN address, no host. */
    public MappingKey(Protocol protocol, int externalPort, RemoteFilter remote) {
        this(protocol, externalPort, remote, null);
    }

    public static MappingKey of(Protocol protocol, int externalPort) {
        return new MappingKey(protocol, externalPort, RemoteFilter.ANY);
    }

    /** A pinhole's key: traffic of {@code protocol} to {@code host} port {@code port} from peers {@code remote} admits. */
    public static MappingKey pinhole(Protocol protocol, Inet6Address host, int port, RemoteFilter remote) {
        return new MappingKey(protocol, port, remote, Objects.requireNonNull(host, "host"));
    }

    /** Whether this is a pinhole's key (it names an IPv6 host). */
    public boolean pinhole() {
        return host != null;
    }

    @Override
    public String toString() {
        String filter = remote.isAny() ? "" : " from " + remote;
        return host == null ? protocol.label() + " " + externalPort + filter
                : "pinhole " + protocol.label() + " [" + host.getHostAddress() + "]:" + externalPort + filter;
    }
}
