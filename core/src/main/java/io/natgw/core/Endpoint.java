package io.natgw.core;

import java.net.InetAddress;
import java.util.Objects;

/** An IP address and a port. */
public record Endpoint(InetAddress address, int port) {
    public Endpoint {
        Objects.requireNonNull(address, "address");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range (accepted: 0-65535)");
        }
    }

    /** Written out: a record's generated equals and hashCode run through method handles, which C1 does not inline (see {@link MappingKey#equals}). */
    @Override
    public boolean equals(Object o) {
        return this == o || o instanceof Endpoint e && port == e.port && address.equals(e.address);
    }

    @Override
    public int hashCode() {
        return address.hashCode() * 31 + port;
    }

    @Override
    public String toString() {
        String host = address.getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
