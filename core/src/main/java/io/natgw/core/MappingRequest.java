package io.natgw.core;

import io.natgw.conf.Protocol;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * What a front-end asks of the table. Every front-end (UPnP, NAT-PMP, PCP, admin, config, triggers)
 * translates its wire format into one of these and its {@link Outcome} back; the table alone decides.
 */
public sealed interface MappingRequest {

    /** Who asks: decides ownership checks, secure mode, quotas and lifetime bounds. */
    Owner requester();

    /** What to do when the wanted external port is held by another owner. */
    enum OnConflict {
        /** Grant another external port (NAT-PMP, PCP, UPnP AddAnyPortMapping). */
        ALTERNATIVE,
        /** Refuse with {@link Outcome.Reason#CONFLICT} (UPnP AddPortMapping 718, PCP PREFER_FAILURE). */
        FAIL
    }

    /**
     * Create a mapping, or refresh/change the requester's own. NAT-PMP and PCP requests for an internal
     * endpoint the requester already maps refresh that mapping and keep its external port; UPnP, admin and
     * config requests for an external port the requester holds change that mapping in place.
     *
     * <p>An {@code internal} address that is IPv6 asks for a <b>pinhole</b> ({@link Mapping#pinhole()}): no
     * translation, so {@code externalPort} is ignored and the pinhole's port is {@code internal.port()}; the table
     * assigns its id. The same Map again from the same owner refreshes it (lifetime, description; the id is kept).
     * Another owner's pinhole on the same host, protocol and port with an overlapping filter is
     * {@link Outcome.Reason#CONFLICT} whatever {@code onConflict} says. Refused with no side effect:
     * {@link Outcome.Reason#PINHOLES_DISABLED} when the dataplane does not forward pinholes,
     * {@link Outcome.Reason#INTERNAL_PORT_WILDCARD} for internal port 0, {@link Outcome.Reason#BAD_INTERNAL_ADDRESS}
     * for an IPv4-mapped, link-local, multicast, loopback or unspecified address.
     *
     * @param externalPort the wanted external port; 0 = no preference (ignored for a pinhole)
     * @param lifetime     the requested lease; clamped to the origin's bounds. Ignored for {@link Kind#STATIC}.
     * @param nonce        PCP mapping nonce (24 hex digits), empty otherwise
     * @param thirdParty   the requester asks for another host ({@code internal.address() != requester.address()}),
     *                     e.g. PCP THIRD_PARTY; authorized only for configured third-party clients or privileged owners
     */
    record Map(Owner requester, Protocol protocol, Endpoint internal, int externalPort, RemoteFilter remote,
               Duration lifetime, Kind kind, String description, String nonce, OnConflict onConflict,
               boolean enabled, boolean thirdParty) implements MappingRequest {
        public Map {
            Objects.requireNonNull(requester, "requester");
            Objects.requireNonNull(protocol, "protocol");
            Objects.requireNonNull(internal, "internal");
            Objects.requireNonNull(remote, "remote");
            Objects.requireNonNull(lifetime, "lifetime");
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(onConflict, "onConflict");
            description = description == null ? "" : description;
            nonce = nonce == null ? "" : nonce;
        }

        /** A plain dynamic request: any remote, enabled, alternative port on conflict, no nonce. */
        public static Map dynamic(Owner requester, Protocol protocol, Endpoint internal, int externalPort, Duration lifetime) {
            return new Map(requester, protocol, internal, externalPort, RemoteFilter.ANY, lifetime, Kind.DYNAMIC, "", "",
                    OnConflict.ALTERNATIVE, true, false);
        }

        public Map withDescription(String text) {
            return new Map(requester, protocol, internal, externalPort, remote, lifetime, kind, text, nonce, onConflict, enabled, thirdParty);
        }

        public Map withOnConflict(OnConflict c) {
            return new Map(requester, protocol, internal, externalPort, remote, lifetime, kind, description, nonce, c, enabled, thirdParty);
        }

        public Map withRemote(RemoteFilter r) {
            return new Map(requester, protocol, internal, externalPort, r, lifetime, kind, description, nonce, onConflict, enabled, thirdParty);
        }

        public Map withNonce(String n) {
            return new Map(requester, protocol, internal, externalPort, remote, lifetime, kind, description, n, onConflict, enabled, thirdParty);
        }

        public Map withEnabled(boolean e) {
            return new Map(requester, protocol, internal, externalPort, remote, lifetime, kind, description, nonce, onConflict, e, thirdParty);
        }
    }

    /**
     * Delete the mapping with this key (UPnP DeletePortMapping, admin delete), or the pinhole with this key
     * ({@link MappingKey#pinhole}, e.g. IGD:2 DeletePinhole after {@link TableView#pinhole(int)}). Only its owner or a
     * privileged requester may, else {@link Outcome.Reason#NOT_AUTHORIZED}; {@link Outcome.Reason#NOT_FOUND} when
     * there is none.
     */
    record Delete(Owner requester, MappingKey key) implements MappingRequest {
    }

    /**
     * Delete the requester's mappings of an internal port (NAT-PMP/PCP lifetime 0, RFC 6886 §3.4,
     * RFC 6887 §15). {@code internalPort} 0 deletes all of the requester's mappings of that protocol.
     * {@code protocol} null means both. For PCP, {@code nonce} must match the mapping's (RFC 6887 §15),
     * otherwise {@link Outcome.Reason#NOT_AUTHORIZED}. Deleting nothing is a success with no rows.
     */
    record DeleteInternal(Owner requester, Protocol protocol, InetAddress internalAddress, int internalPort,
                          String nonce) implements MappingRequest {
        public DeleteInternal {
            nonce = nonce == null ? "" : nonce;
        }
    }

    /**
     * Delete the requester's own mappings with external ports in {@code [first, last]} (UPnP
     * DeletePortMappingRange; only the caller's, unlike miniupnpd). Another owner's mappings are left alone, and so
     * are pinholes (they have no port on the WAN address).
     * {@code protocol} null means both.
     */
    record DeleteRange(Owner requester, Protocol protocol, int first, int last) implements MappingRequest {
    }

    /** Delete every mapping the selector picks (admins and uninstallers: by description, by owner). Privileged only. */
    record DeleteMatching(Owner requester, String what, Predicate<Mapping> selector) implements MappingRequest {
    }

    /** The external address changed (or is set by an admin): announced to every listener. Privileged only. */
    record SetExternalAddress(Owner requester, InetAddress address) implements MappingRequest {
    }
}
