package io.natgw.core;

import io.natgw.conf.Protocol;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * An immutable, consistent snapshot of the committed rows in listing order (protocol, external port,
 * remote filter). Index-based walks (UPnP GetGenericPortMappingEntry) and range queries
 * (GetListOfPortMappings) on one view agree with each other however the table changes meanwhile.
 */
public final class TableView {

    private final List<Mapping> rows;
    private final long version;

    TableView(List<Mapping> rows, long version) {
        this.rows = Collections.unmodifiableList(rows);
        this.version = version;
    }

    /** Increases with every committed batch: two views with the same version hold the same rows. */
    public long version() {
        return version;
    }

    public List<Mapping> mappings() {
        return rows;
    }

    public int size() {
        return rows.size();
    }

    /** The row at {@code index} in listing order. */
    public Optional<Mapping> get(int index) {
        return index >= 0 && index < rows.size() ? Optional.of(rows.get(index)) : Optional.empty();
    }

    public Optional<Mapping> find(MappingKey key) {
        int i = Collections.binarySearch(rows, null, (a, b) -> a.key().compareTo(key));
        return i >= 0 ? Optional.of(rows.get(i)) : Optional.empty();
    }

    /** The row that serves a packet from {@code remote} on this port: the most specific filter that admits it. */
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

    /** Rows of {@code protocol} (null: both) with external ports in {@code [first, last]}, in order, at most {@code max}. */
    public List<Mapping> range(Protocol protocol, int first, int last, int max) {
        List<Mapping> out = new ArrayList<>();
        int i = lowerBound(protocol == null ? Protocol.values()[0] : protocol, first);
        for (; i < rows.size() && out.size() < max; i++) {
            Mapping m = rows.get(i);
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
        int hi = rows.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            Mapping m = rows.get(mid);
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
