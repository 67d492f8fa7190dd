package io.natgw.core;

import io.natgw.conf.Protocol;

import java.util.Comparator;

/** What identifies a mapping in the table: protocol, external port, and the remote filter that narrows it. */
public record MappingKey(Protocol protocol, int externalPort, RemoteFilter remote) implements Comparable<MappingKey> {

    /** Listing order: protocol, then external port, then filter (any first). Stable while the table changes. */
    private static final Comparator<MappingKey> ORDER = Comparator.comparing(MappingKey::protocol)
            .thenComparingInt(MappingKey::externalPort)
            .thenComparing(k -> k.remote().toString());

    public MappingKey {
        java.util.Objects.requireNonNull(protocol, "protocol");
        java.util.Objects.requireNonNull(remote, "remote");
    }

    public static MappingKey of(Protocol protocol, int externalPort) {
        return new MappingKey(protocol, externalPort, RemoteFilter.ANY);
    }

    @Override
    public int compareTo(MappingKey o) {
        return ORDER.compare(this, o);
    }

    @Override
    public String toString() {
        return protocol.label() + " " + externalPort + (remote.isAny() ? "" : " from " + remote);
    }
}
