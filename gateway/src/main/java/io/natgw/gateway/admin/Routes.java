package io.natgw.gateway.admin;

import io.natgw.conf.Addresses;
import io.natgw.conf.Protocol;
import io.natgw.core.MappingKey;
import io.natgw.core.RemoteFilter;

import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * Path and query pieces shared by the mapping endpoints: {@code /api/v1/mappings/tcp/6000?remote=10.0.0.0/8&remotePort=0},
 * and for an IPv6 pinhole {@code /api/v1/mappings/tcp/6000?host=fd00:77::10}.
 */
final class Routes {

    static final String API = "/api/v1";

    private Routes() {
    }

    static String remoteParam(RemoteFilter r) {
        String a = r.address() == null ? "0.0.0.0/0" : r.address().getHostAddress() + "/" + r.prefixLength();
        return r.port() == 0 ? a : a + "&remotePort=" + r.port();
    }

    /** An address as people write it: IPv4 dotted, IPv6 in RFC 5952 form ({@code fd00:77::10}, not {@code fd00:77:0:0:0:0:0:10}). */
    static String text(InetAddress a) {
        if (!(a instanceof Inet6Address)) {
            return a.getHostAddress();
        }
        byte[] b = a.getAddress();
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = (b[2 * i] & 0xff) << 8 | b[2 * i + 1] & 0xff;
        }
        int bestStart = -1;
        int bestLen = 1; // RFC 5952 §4.2.2: a single zero group is not shortened
        for (int i = 0; i < 8; ) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) { // §4.2.3: the longest run, the first one on a tie
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(g[i]));
        }
        return sb.toString();
    }

    /** {@code 192.168.77.10:80} or {@code [fd00:77::10]:80}. */
    static String endpoint(InetAddress a, int port) {
        return (a instanceof Inet6Address ? "[" + text(a) + "]" : text(a)) + ":" + port;
    }

    static Protocol protocol(String text, String field) throws ApiException {
        try {
            return Protocol.parse(text);
        } catch (IllegalArgumentException e) {
            throw ApiException.badField(field, "protocol '" + text + "' is not known", "tcp, udp");
        }
    }

    static int port(String text, String field, int min) throws ApiException {
        String accepted = "an integer " + min + "-65535";
        if (text == null || text.isEmpty() || text.length() > 5 || !text.chars().allMatch(Character::isDigit)) {
            throw ApiException.badField(field, "'" + text + "' is not a port", accepted);
        }
        int p = Integer.parseInt(text);
        if (p < min || p > 65535) {
            throw ApiException.badField(field, "port " + p + " is out of range", accepted);
        }
        return p;
    }

    static InetAddress address(String text, String field) throws ApiException {
        try {
            return Addresses.parseLiteral(text);
        } catch (IllegalArgumentException e) {
            throw ApiException.badField(field, e.getMessage(), "an IPv4 or IPv6 address literal, e.g. 192.168.77.10");
        }
    }

    /** The remote filter of {@code ?remote=ADDR/PREFIX&remotePort=N}; none given is ANY. */
    static RemoteFilter remote(String remote, String remotePort) throws ApiException {
        int port = remotePort == null ? 0 : port(remotePort, "remotePort", 0);
        if (remote == null || remote.isEmpty()) {
            return port == 0 ? RemoteFilter.ANY : new RemoteFilter(null, 0, port);
        }
        int slash = remote.indexOf('/');
        InetAddress a = address(slash < 0 ? remote : remote.substring(0, slash), "remote");
        int max = a.getAddress().length * 8;
        int prefix = max;
        if (slash >= 0) {
            String p = remote.substring(slash + 1);
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit) || Integer.parseInt(p) > max) {
                throw ApiException.badField("remote", "'" + remote + "' is not an address block", "ADDRESS/0-" + max);
            }
            prefix = Integer.parseInt(p);
        }
        return new RemoteFilter(a, prefix, port);
    }

    /**
     * A row's key from its path and query: {@code tcp/6000[?remote=…]} names a NAT mapping on the WAN address,
     * {@code tcp/6000?host=fd00:77::10[&remote=…]} the IPv6 pinhole to that host's port 6000.
     */
    static MappingKey key(String protocol, String port, String remote, String remotePort, String host) throws ApiException {
        Protocol p = protocol(protocol, "protocol");
        int n = port(port, "externalPort", 1);
        RemoteFilter filter = remote(remote, remotePort);
        if (host == null || host.isEmpty()) {
            return new MappingKey(p, n, filter);
        }
        if (!(address(host, "host") instanceof Inet6Address v6)) {
            throw ApiException.badField("host", "host " + host + " is not an IPv6 address (a NAT mapping is named by protocol"
                    + " and port alone)", "the IPv6 address of a pinhole, e.g. fd00:77::10");
        }
        return MappingKey.pinhole(p, v6, n, filter);
    }
}
