package io.natgw.core;

import io.natgw.conf.Cidr;
import io.natgw.conf.Protocol;

import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The writer's working rows and their indexes. Only the table's writer thread touches it (methods are
 * neither synchronized nor thread-safe on purpose). Every mutation goes through {@link #put} and
 * {@link #remove}, so the indexes cannot drift from the rows.
 */
final class TableState {

    /** A mapping's identity for NAT-PMP/PCP: owner, protocol, internal endpoint, remote filter (RFC 6887 §11.1). */
    record InternalKey(Owner owner, Protocol protocol, Endpoint internal, RemoteFilter remote) {
        static InternalKey of(Mapping m) {
            return new InternalKey(m.owner(), m.protocol(), m.internal(), m.remote());
        }

        /** Written out: a record's generated equals and hashCode run through method handles, which C1 does not inline (see {@link MappingKey#equals}). */
        @Override
        public boolean equals(Object o) {
            return this == o || o instanceof InternalKey k && protocol == k.protocol && internal.equals(k.internal)
                    && owner.equals(k.owner) && remote.equals(k.remote);
        }

        @Override
        public int hashCode() {
            return ((owner.hashCode() * 31 + protocol.ordinal()) * 31 + internal.hashCode()) * 31 + remote.hashCode();
        }
    }

    /**
     * Leases by expiry, then by key (only rows that expire are in that index). Written out, as {@link MappingKey}'s
     * order is: every add and delete moves a row in it (about 2 log2(n) comparisons), and under C1 a
     * {@code comparing(…).thenComparing(…)} chain is calls through lambdas it does not inline.
     */
    private static final Comparator<Mapping> BY_EXPIRY = (a, b) -> {
        int c = a.expiresAt().compareTo(b.expiresAt());
        return c != 0 ? c : a.key().compareTo(b.key());
    };

    private final TreeMap<MappingKey, Mapping> rows = new TreeMap<>();
    /** owner → its rows in key order: a NAT-PMP/PCP delete looks at the requester's rows only, not the whole table. */
    private final Map<Owner, TreeMap<MappingKey, Mapping>> byOwner = new HashMap<>();
    /** protocol and external port → rows on it (several when remote filters differ). */
    private final Map<Integer, List<Mapping>> byPort = new HashMap<>();
    private final Map<InternalKey, Mapping> byInternal = new HashMap<>();
    /** client address → dynamic mappings it holds (the quota counts these). */
    private final Map<InetAddress, Integer> dynamicPerClient = new HashMap<>();
    /** client subnet → dynamic mappings its addresses hold (the subnet quota counts these). */
    private final Map<Cidr, Integer> dynamicPerSubnet = new HashMap<>();
    private final Function<InetAddress, Cidr> subnetOf;
    private final TreeSet<Mapping> byExpiry = new TreeSet<>(BY_EXPIRY);
    /** Per protocol, the external ports that hold at least one NAT row: lets the allocator skip them in one step. */
    private final BitSet[] occupied = {new BitSet(65536), new BitSet(65536)};
    /** Pinholes by protocol, host and port (any filter): the rows a new pinhole could conflict with. */
    private final Map<MappingKey, List<Mapping>> pinholesOn = new HashMap<>();
    /** Pinholes by id, and the ids in use. */
    private final Map<Integer, Mapping> byPinholeId = new HashMap<>();
    private final BitSet pinholeIds = new BitSet(Mapping.MAX_PINHOLE_ID + 1);
    /** Where the search for the next pinhole id starts: ids are not reused at once after a delete. */
    private int nextPinholeId = 1;

    TableState(Function<InetAddress, Cidr> subnetOf) {
        this.subnetOf = subnetOf;
    }

    int size() {
        return rows.size();
    }

    Mapping get(MappingKey key) {
        return rows.get(key);
    }

    /** NAT rows on this external port (pinholes have no port on the WAN address). */
    List<Mapping> onPort(Protocol protocol, int port) {
        return byPort.getOrDefault(portKey(protocol, port), List.of());
    }

    /** Pinholes to this host and port, whatever their filter. */
    List<Mapping> pinholesOn(Protocol protocol, InetAddress host, int port) {
        return pinholesOn.getOrDefault(new MappingKey(protocol, port, RemoteFilter.ANY, host), List.of());
    }

    int pinholeCount() {
        return byPinholeId.size();
    }

    Mapping pinhole(int id) {
        return byPinholeId.get(id);
    }

    /**
     * A free pinhole id (1-65535), searched onward from the last one handed out so that a deleted pinhole's id is
     * not given to the next one at once (a client holding a stale UniqueID must not reach another's pinhole); 0 when
     * every id is live. Does not reserve it: {@link #put} does.
     */
    /** The next search for a free id starts after {@code id} (just handed out, or the highest restored). */
    void pinholeIdTaken(int id) {
        nextPinholeId = id >= Mapping.MAX_PINHOLE_ID ? 1 : id + 1;
    }

    /** Where the next search for a free pinhole id starts. */
    int pinholeIdCursor() {
        return nextPinholeId;
    }

    int freePinholeId() {
        int id = pinholeIds.nextClearBit(nextPinholeId);
        if (id > Mapping.MAX_PINHOLE_ID) {
            id = pinholeIds.nextClearBit(1);
        }
        return id > Mapping.MAX_PINHOLE_ID ? 0 : id;
    }

    BitSet occupied(Protocol protocol) {
        return occupied[protocol.ordinal()];
    }

    Mapping byInternal(InternalKey key) {
        return byInternal.get(key);
    }

    int dynamicCount(InetAddress client) {
        return dynamicPerClient.getOrDefault(client, 0);
    }

    int dynamicCountInSubnet(Cidr subnet) {
        return dynamicPerSubnet.getOrDefault(subnet, 0);
    }

    Iterable<Mapping> all() {
        return rows.values();
    }

    /** The rows {@code owner} holds, in key order (a view: copy before changing the state). */
    Iterable<Mapping> ownedBy(Owner owner) {
        TreeMap<MappingKey, Mapping> owned = byOwner.get(owner);
        return owned == null ? List.of() : owned.values();
    }

    /** Rows whose lease has run out at {@code now}, soonest first. */
    List<Mapping> expiredAt(Instant now) {
        List<Mapping> out = new ArrayList<>();
        for (Mapping m : byExpiry) {
            if (!m.expiredAt(now)) {
                break;
            }
            out.add(m);
        }
        return out;
    }

    /** The earliest expiry, or null when nothing expires. */
    Instant nextExpiry() {
        return byExpiry.isEmpty() ? null : byExpiry.first().expiresAt();
    }

    /** Inserts or replaces the row with the mapping's key. */
    void put(Mapping m) {
        Mapping old = rows.get(m.key());
        if (old != null) {
            remove(old);
        }
        rows.put(m.key(), m);
        byOwner.computeIfAbsent(m.owner(), o -> new TreeMap<>()).put(m.key(), m);
        if (m.pinhole()) {
            pinholesOn.computeIfAbsent(targetKey(m), k -> new ArrayList<>(1)).add(m);
            byPinholeId.put(m.pinholeId(), m);
            pinholeIds.set(m.pinholeId());
        } else {
            byPort.computeIfAbsent(portKey(m.protocol(), m.externalPort()), k -> new ArrayList<>(1)).add(m);
            occupied[m.protocol().ordinal()].set(m.externalPort());
        }
        byInternal.put(InternalKey.of(m), m);
        if (m.kind() == Kind.DYNAMIC) {
            dynamicPerClient.merge(m.owner().address(), 1, Integer::sum);
            dynamicPerSubnet.merge(subnetOf.apply(m.owner().address()), 1, Integer::sum);
        }
        if (m.expiresAt() != null) {
            byExpiry.add(m);
        }
    }

    void remove(Mapping m) {
        Mapping current = rows.get(m.key());
        if (current == null) {
            return;
        }
        rows.remove(current.key());
        TreeMap<MappingKey, Mapping> owned = byOwner.get(current.owner());
        owned.remove(current.key());
        if (owned.isEmpty()) {
            byOwner.remove(current.owner());
        }
        if (current.pinhole()) {
            MappingKey target = targetKey(current);
            List<Mapping> on = pinholesOn.get(target);
            on.remove(current);
            if (on.isEmpty()) {
                pinholesOn.remove(target);
            }
            byPinholeId.remove(current.pinholeId(), current);
            if (!byPinholeId.containsKey(current.pinholeId())) {
                pinholeIds.clear(current.pinholeId());
            }
        } else {
            int pk = portKey(current.protocol(), current.externalPort());
            List<Mapping> onPort = byPort.get(pk);
            onPort.remove(current);
            if (onPort.isEmpty()) {
                byPort.remove(pk);
                occupied[current.protocol().ordinal()].clear(current.externalPort());
            }
        }
        byInternal.remove(InternalKey.of(current), current);
        if (current.kind() == Kind.DYNAMIC) {
            dynamicPerClient.computeIfPresent(current.owner().address(), (k, n) -> n == 1 ? null : n - 1);
            dynamicPerSubnet.computeIfPresent(subnetOf.apply(current.owner().address()), (k, n) -> n == 1 ? null : n - 1);
        }
        if (current.expiresAt() != null) {
            byExpiry.remove(current);
        }
    }

    /** Undoes a change this state has applied (commit failed). */
    void revert(Change c) {
        if (c.after() != null) {
            remove(c.after());
        }
        if (c.before() != null) {
            put(c.before());
        }
    }

    private static MappingKey targetKey(Mapping m) {
        return new MappingKey(m.protocol(), m.externalPort(), RemoteFilter.ANY, m.internal().address());
    }

    private static int portKey(Protocol protocol, int port) {
        return protocol.ordinal() << 16 | port;
    }
}
