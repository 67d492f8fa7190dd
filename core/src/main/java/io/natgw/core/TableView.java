package io.natgw.core;

import io.natgw.conf.Protocol;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An immutable, consistent snapshot of the committed rows in listing order ({@link MappingKey}'s order: NAT
 * mappings by protocol, external port, remote filter; then IPv6 pinholes). Index-based walks (UPnP
 * GetGenericPortMappingEntry) and range queries (GetListOfPortMappings) on one view agree with each other however
 * the table changes meanwhile; they, like {@link #lookup}, see NAT mappings only ({@link #portMappings()}), never
 * pinholes, which have no port on the WAN address.
 */
public final class TableView {

    private final List<Mapping> rows;
    /** The NAT mappings: a prefix of {@link #rows} (pinholes sort last). */
    private final List<Mapping> nat;
    private final List<Mapping> pinholes;
    private final long version;
    /** Pinholes by id, built on the first {@link #pinhole(int)} call. */
    private volatile Map<Integer, Mapping> byPinholeId;

    TableView(List<Mapping> rows, long version) {
        this.rows = Collections.unmodifiableList(rows);
        int n = firstPinhole(rows);
        this.nat = this.rows.subList(0, n);
        this.pinholes = this.rows.subList(n, rows.size());
        this.version = version;
    }

    private static int firstPinhole(List<Mapping> rows) {
        int lo = 0;
        int hi = rows.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (rows.get(mid).pinhole()) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /** Increases with every committed batch: two views with the same version hold the same rows. */
    public long version() {
        return version;
    }

    /** Every row: NAT mappings, then pinholes. */
    public List<Mapping> mappings() {
        return rows;
    }

    /** Every row's count, pinholes included. */
    public int size() {
        return rows.size();
    }

    /** The NAT mappings (on the WAN address) in listing order, without pinholes. */
    public List<Mapping> portMappings() {
        return nat;
    }

    /** The IPv6 pinholes in listing order. */
    public List<Mapping> pinholes() {
        return pinholes;
    }

    /** The NAT mapping at {@code index} in listing order ({@link #portMappings()}; pinholes are not indexed here). */
    public Optional<Mapping> get(int index) {
        return index >= 0 && index < nat.size() ? Optional.of(nat.get(index)) : Optional.empty();
    }

    /** The live pinhole with this id (IGD:2 UniqueID). */
    public Optional<Mapping> pinhole(int id) {
        Map<Integer, Mapping> index = byPinholeId;
        if (index == null) {
            index = new HashMap<>();
            for (Mapping m : pinholes) {
                index.put(m.pinholeId(), m);
            }
            byPinholeId = index;
        }
        return Optional.ofNullable(index.get(id));
    }

    public Optional<Mapping> find(MappingKey key) {
        int i = Collections.binarySearch(rows, null, (a, b) -> a.key().compareTo(key));
        return i >= 0 ? Optional.of(rows.get(i)) : Optional.empty();
    }

    /** The NAT mapping that serves a packet from {@code remote} on this port: the most specific filter that admits it. */
    public Optional<Mapping> lookup(Protocol protocol, int externalPort, InetAddress remote, int remotePort) {
        Mapping best = null;
        for (Mapping m : range(protocol, externalPort, externalPort, Integer.MAX_VALUE)) {
            if (m.remote().admits(remote, remotePort)
                    && (best == null || m.remote().prefixLength() > best.remote().prefixLength())) {
                best = m;
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * NAT mappings of {@code protocol} (null: both) with external ports in {@code [first, last]}, in order, at most
     * {@code max}.
     */
    public List<Mapping> range(Protocol protocol, int first, int last, int max) {
        List<Mapping> out = new ArrayList<>();
        int i = lowerBound(protocol == null ? Protocol.values()[0] : protocol, first);
        for (; i < nat.size() && out.size() < max; i++) {
            Mapping m = nat.get(i);
            if (protocol != null && m.protocol() != protocol) {
                break;
            }
            if (m.externalPort() >= first && m.externalPort() <= last) {
                out.add(m);
            }
        }
        return out;
    }

    private int lowerBound(Protocol protocol, int port) {
        int lo = 0;
        int hi = nat.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            Mapping m = nat.get(mid);
            int c = m.protocol() != protocol ? m.protocol().compareTo(protocol) : Integer.compare(m.externalPort(), port);
            if (c < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
