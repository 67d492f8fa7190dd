package io.natgw.gateway.wan;

import io.natgw.conf.Addresses;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One line of {@code ip -o monitor address} (iproute2): an IPv4 or IPv6 address added to or deleted from an
 * interface. Pure: a line in, a record or nothing out.
 *
 * <pre>
 *   3: gwwan    inet 203.0.113.5/24 scope global gwwan\       valid_lft forever preferred_lft forever
 *   Deleted 3: gwwan    inet 203.0.113.1/24 scope global gwwan\       valid_lft forever preferred_lft forever
 *   ^ "Deleted " on removal; then the interface index, its name, the family (inet, inet6), address/prefix
 * </pre>
 *
 * @param deleted   whether the address went away
 * @param iface     the interface name
 * @param address   the address
 * @param prefix    its prefix length
 */
public record AddressEvent(boolean deleted, String iface, InetAddress address, int prefix) {

    /** Longer lines are not iproute2's address lines; the reader drops them before they get here. */
    static final int MAX_LINE = 1024;

    private static final Pattern LINE = Pattern.compile(
            "^(Deleted )?\\d+: ([^\\s:@]{1,15})\\s+(inet6?) ([0-9A-Fa-f:.]{2,45})/(\\d{1,3})(?:\\s|$).*", Pattern.DOTALL);

    /** The event a line reports, or empty for any other line (link events, errors, an unknown format). */
    public static Optional<AddressEvent> parse(String line) {
        if (line == null || line.length() > MAX_LINE) {
            return Optional.empty();
        }
        Matcher m = LINE.matcher(line);
        if (!m.matches()) {
            return Optional.empty();
        }
        InetAddress a;
        try {
            a = Addresses.parseLiteral(m.group(4));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        int prefix = Integer.parseInt(m.group(5));
        boolean v4 = m.group(3).equals("inet");
        if (v4 != (a instanceof Inet4Address) || prefix > (v4 ? 32 : 128)) {
            return Optional.empty();
        }
        return Optional.of(new AddressEvent(m.group(1) != null, m.group(2), a, prefix));
    }

    public boolean ipv4() {
        return address instanceof Inet4Address;
    }
}
