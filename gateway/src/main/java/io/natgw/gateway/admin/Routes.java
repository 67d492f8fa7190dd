package io.natgw.gateway.admin;

import io.natgw.conf.Addresses;
import io.natgw.conf.Protocol;
import io.natgw.core.MappingKey;
import io.natgw.core.RemoteFilter;

import java.net.InetAddress;

/** Path and query pieces shared by the mapping endpoints: {@code /api/v1/mappings/tcp/6000?remote=10.0.0.0/8&remotePort=0}. */
final class Routes {

    static final String API = "/api/v1";

    private Routes() {
    }

    static String remoteParam(RemoteFilter r) {
        String a = r.address() == null ? "0.0.0.0/0" : r.address().getHostAddress() + "/" + r.prefixLength();
        return r.port() == 0 ? a : a + "&remotePort=" + r.port();
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

    static MappingKey key(String protocol, String port, String remote, String remotePort) throws ApiException {
        return new MappingKey(protocol(protocol, "protocol"), port(port, "externalPort", 1), remote(remote, remotePort));
    }
}
