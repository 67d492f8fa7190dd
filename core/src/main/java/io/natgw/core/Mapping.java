package io.natgw.core;

import io.natgw.conf.Protocol;

import java.net.Inet6Address;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * One row of the mapping table: traffic to the gateway's external address on {@code externalPort} over
 * {@code protocol}, from peers {@code remote} admits, is relayed to {@code internal}.
 *
 * <p>A row whose {@code internal} address is IPv6 is a <b>pinhole</b> ({@link #pinhole()}): no translation, traffic
 * from peers {@code remote} admits to {@code internal} itself is let through the firewall. Its {@code externalPort}
 * is its internal port and its {@code pinholeId} (1-65535, IGD:2's UniqueID) is assigned by the table when it is
 * created, unique among live pinholes and kept while the pinhole lives.
 *
 * @param nonce       the PCP mapping nonce (RFC 6887 §11.1) as 24 hex digits; empty for other origins
 * @param description free text from the client (UPnP NewPortMappingDescription, PCP DESCRIPTION) or the admin
 * @param expiresAt   when the lease ends; {@code null} for static mappings, which never expire
 * @param enabled     a disabled mapping stays in the table but does not forward (UPnP NewEnabled=0)
 * @param pinholeId   0 for a NAT mapping; 1-65535 for a pinhole
 */
public record Mapping(Protocol protocol, int externalPort, RemoteFilter remote, Endpoint internal, Owner owner,
                      String nonce, Kind kind, String description, Instant createdAt, Instant expiresAt,
                      boolean enabled, int pinholeId) {

    /** The largest pinhole id: IGD:2 UniqueID is a ui2. */
    public static final int MAX_PINHOLE_ID = 65535;

    /** A NAT mapping (pinhole id 0). */
    public Mapping(Protocol protocol, int externalPort, RemoteFilter remote, Endpoint internal, Owner owner,
                   String nonce, Kind kind, String description, Instant createdAt, Instant expiresAt, boolean enabled) {
        this(protocol, externalPort, remote, internal, owner, nonce, kind, description, createdAt, expiresAt, enabled, 0);
    }

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
        if (internal.address() instanceof Inet6Address) {
            if (pinholeId < 1 || pinholeId > MAX_PINHOLE_ID) {
                throw new IllegalArgumentException("pinhole id " + pinholeId + " is out of range (accepted: 1-"
                        + MAX_PINHOLE_ID + " for a pinhole to an IPv6 host)");
            }
            if (externalPort != internal.port()) {
                throw new IllegalArgumentException("a pinhole's port " + externalPort + " is its internal port "
                        + internal.port() + " (no translation)");
            }
        } else if (pinholeId != 0) {
            throw new IllegalArgumentException("pinhole id " + pinholeId + " on a NAT mapping to " + internal
                    + " (accepted: 0; pinholes are to IPv6 hosts)");
        }
    }

    public MappingKey key() {
        return pinhole() ? new MappingKey(protocol, externalPort, remote, internal.address())
                : new MappingKey(protocol, externalPort, remote);
    }

    /** Whether this row is an IPv6 pinhole (its internal address is IPv6) rather than a NAT mapping. */
    public boolean pinhole() {
        return internal.address() instanceof Inet6Address;
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

    /**
     * Written out: a record's generated equals and hashCode run through method handles, which C1 does not inline (see {@link MappingKey#equals}); the dataplane compares a change's rows with
     * the ones it forwards on every change. Every component, as the record's own equality.
     */
    @Override
    public boolean equals(Object o) {
        return this == o || o instanceof Mapping m && externalPort == m.externalPort && pinholeId == m.pinholeId
                && enabled == m.enabled && protocol == m.protocol && kind == m.kind && remote.equals(m.remote)
                && internal.equals(m.internal) && owner.equals(m.owner) && Objects.equals(nonce, m.nonce)
                && Objects.equals(description, m.description) && Objects.equals(createdAt, m.createdAt)
                && Objects.equals(expiresAt, m.expiresAt);
    }

    @Override
    public int hashCode() {
        int h = protocol.ordinal() * 31 + externalPort;
        h = h * 31 + remote.hashCode();
        h = h * 31 + internal.hashCode();
        h = h * 31 + owner.hashCode();
        h = h * 31 + Objects.hashCode(nonce);
        h = h * 31 + kind.ordinal();
        h = h * 31 + Objects.hashCode(description);
        h = h * 31 + Objects.hashCode(createdAt);
        h = h * 31 + Objects.hashCode(expiresAt);
        return (h * 31 + (enabled ? 1 : 0)) * 31 + pinholeId;
    }

    public Mapping withExpiry(Instant newExpiry) {
        return new Mapping(protocol, externalPort, remote, internal, owner, nonce, kind, description, createdAt, newExpiry,
                enabled, pinholeId);
    }

    /**
     * For logs: {@code tcp 6000 -> 127.0.0.1:6000 (dynamic, 127.0.0.1 via pcp)}, or for a pinhole
     * {@code pinhole 7 tcp -> [fd00:77::10]:6000 (dynamic, fd00:77::10 via pcp)}.
     */
    @Override
    public String toString() {
        String head = pinholeId != 0 ? "pinhole " + pinholeId + " " + protocol.label() : protocol.label() + " " + externalPort;
        return head + (remote.isAny() ? "" : " from " + remote) + " -> " + internal
                + " (" + kind.label() + (enabled ? "" : ", disabled") + ", " + owner
                + (description.isEmpty() ? "" : ", '" + description + "'") + ")";
    }
}
