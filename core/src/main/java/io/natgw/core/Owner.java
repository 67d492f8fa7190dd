package io.natgw.core;

import java.net.InetAddress;
import java.util.Objects;

/**
 * Who holds a mapping: the client's address and the front-end it spoke through. Two requests come from
 * the same owner when both are equal; a port held by one owner is never given to another.
 */
public record Owner(InetAddress address, Origin origin) {
    public Owner {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(origin, "origin");
    }

    public static Owner of(InetAddress address, Origin origin) {
        return new Owner(address, origin);
    }

    /** Written out: a record's generated equals and hashCode run through method handles, which C1 does not inline (see {@link MappingKey#equals}). */
    @Override
    public boolean equals(Object o) {
        return this == o || o instanceof Owner w && origin == w.origin && address.equals(w.address);
    }

    @Override
    public int hashCode() {
        return address.hashCode() * 31 + origin.ordinal();
    }

    public boolean privileged() {
        return origin.privileged();
    }

    @Override
    public String toString() {
        return address.getHostAddress() + " via " + origin.label();
    }
}
