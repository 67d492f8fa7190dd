package io.natgw.core;

import io.natgw.conf.Protocol;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * One row of the mapping table: traffic to the gateway's external address on {@code externalPort} over
 * {@code protocol}, from peers {@code remote} admits, is relayed to {@code internal}.
 *
 * @param nonce       the PCP mapping nonce (RFC 6887 §11.1) as 24 hex digits; empty for other origins
 * @param description free text from the client (UPnP NewPortMappingDescription, PCP DESCRIPTION) or the admin
 * @param expiresAt   when the lease ends; {@code null} for static mappings, which never expire
 * @param enabled     a disabled mapping stays in the table but does not forward (UPnP NewEnabled=0)
 */
public record Mapping(Protocol protocol, int externalPort, RemoteFilter remote, Endpoint internal, Owner owner,
                      String nonce, Kind kind, String description, Instant createdAt, Instant expiresAt,
                      boolean enabled) {

    public Mapping {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(internal, "internal");
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(createdAt, "createdAt");
        nonce = nonce == null ? "" : nonce;
        description = description == null ? "" : description;
        if (externalPort < 1 || externalPort > 65535) {
            throw new IllegalArgumentException("external port " + externalPort + " is out of range (accepted: 1-65535)");
        }
        if ((kind == Kind.STATIC) != (expiresAt == null)) {
            throw new IllegalArgumentException("static mappings, and only they, never expire");
        }
    }

    public MappingKey key() {
        return new MappingKey(protocol, externalPort, remote);
    }

    public boolean permanent() {
        return expiresAt == null;
    }

    /** Lifetime left at {@code now}: zero once expired; {@code null} for a static mapping. */
    public Duration remaining(Instant now) {
        if (expiresAt == null) {
            return null;
        }
        Duration d = Duration.between(now, expiresAt);
        return d.isNegative() ? Duration.ZERO : d;
    }

    public boolean expiredAt(Instant now) {
        return expiresAt != null && !now.isBefore(expiresAt);
    }

    public Mapping withExpiry(Instant newExpiry) {
        return new Mapping(protocol, externalPort, remote, internal, owner, nonce, kind, description, createdAt, newExpiry, enabled);
    }

    /** For logs: {@code tcp 6000 -> 127.0.0.1:6000 (dynamic, 127.0.0.1 via pcp)}. */
    @Override
    public String toString() {
        return protocol.label() + " " + externalPort + (remote.isAny() ? "" : " from " + remote) + " -> " + internal
                + " (" + kind.label() + (enabled ? "" : ", disabled") + ", " + owner
                + (description.isEmpty() ? "" : ", '" + description + "'") + ")";
    }
}
