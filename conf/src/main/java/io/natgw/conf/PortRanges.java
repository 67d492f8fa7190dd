package io.natgw.conf;

import java.util.ArrayList;
import java.util.List;

/**
 * A list of port ranges in the syntax routers use: {@code 123-456,777-789} (single ports allowed,
 * {@code 123-456-789} rejected).
 */
public record PortRanges(List<PortRange> ranges) {

    public static final PortRanges ALL = new PortRanges(List.of(new PortRange(0, 65535)));

    public PortRanges {
        if (ranges.isEmpty()) {
            throw new IllegalArgumentException("a port list needs at least one port");
        }
        ranges = List.copyOf(ranges);
    }

    /**
     * Parses {@code 123-456,777-789}. The message of the exception names the bad part and what is accepted.
     */
    public static PortRanges parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty port list (" + ACCEPTED + ")");
        }
        List<PortRange> out = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            String p = part.trim();
            String[] ends = p.split("-", -1);
            if (p.isEmpty() || ends.length > 2) {
                throw new IllegalArgumentException("'" + p + "'" + within(p, text) + " is not a port or a range ("
                        + ACCEPTED + ")");
            }
            int first = parsePort(ends[0], text);
            int last = ends.length == 2 ? parsePort(ends[1], text) : first;
            if (first > last) {
                throw new IllegalArgumentException("range '" + p + "'" + within(p, text) + " ends before it starts"
                        + " (accepted: first-last with first <= last, e.g. " + last + "-" + first + ")");
            }
            out.add(new PortRange(first, last));
        }
        return new PortRanges(out);
    }

    private static final String ACCEPTED = "accepted: ports 0-65535 and ranges, comma-separated, e.g. '123-456,777-789'";

    /** {@code " in 'WHOLE'"} when the bad part is not the whole text. */
    private static String within(String part, String whole) {
        return part.equals(whole.trim()) ? "" : " in '" + whole + "'";
    }

    private static int parsePort(String s, String whole) {
        String t = s.trim();
        if (t.isEmpty() || t.length() > 5 || !t.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("'" + t + "'" + within(t, whole) + " is not a port number (accepted: 0-65535)");
        }
        int port = Integer.parseInt(t);
        if (port > 65535) {
            throw new IllegalArgumentException("port " + port + within(t, whole) + " is out of range (accepted: 0-65535)");
        }
        return port;
    }

    public boolean contains(int port) {
        for (PortRange r : ranges) {
            if (r.contains(port)) {
                return true;
            }
        }
        return false;
    }

    public boolean overlaps(PortRanges other) {
        for (PortRange a : ranges) {
            for (PortRange b : other.ranges) {
                if (a.overlaps(b)) {
                    return true;
                }
            }
        }
        return false;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (PortRange r : ranges) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(r);
        }
        return sb.toString();
    }
}
