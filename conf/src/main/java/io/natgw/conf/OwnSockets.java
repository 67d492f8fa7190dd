package io.natgw.conf;

import java.net.InetAddress;
import java.util.List;

/**
 * The gateway never maps to itself: the one rule, shared by the config validator (static mappings) and the
 * table (every other origin). An internal endpoint is refused when it is
 * <ul>
 *   <li>one of the gateway's own sockets: NAT-PMP/PCP ({@code pcp.port}, UDP) and SSDP (1900, UDP) and UPnP HTTP
 *       ({@code upnp.httpPort}, TCP) on the LAN addresses, the admin API ({@code admin.port}, TCP) on its addresses;</li>
 *   <li>on the WAN address, whatever the port: the mapped ports live there, so it would be a loop;</li>
 *   <li>on a router (LAN addresses not loopback), any of the gateway's own LAN addresses: a relayed connection
 *       would arrive from the gateway itself.</li>
 * </ul>
 * The loopback sandbox keeps mappings to 127.0.0.1 services on other ports.
 */
final class OwnSockets {

    private OwnSockets() {
    }

    static String check(NatgwConfig.Network network, NatgwConfig.Pcp pcp, NatgwConfig.Upnp upnp, NatgwConfig.Admin admin,
                        Protocol protocol, InetAddress address, int port) {
        String target = address.getHostAddress() + ":" + port;
        if (address.equals(network.wanAddress())) {
            return target + " is on the gateway's WAN address " + network.wanAddress().getHostAddress()
                    + " (a mapping to it would loop back into the gateway)";
        }
        List<InetAddress> lan = network.lanAddresses();
        if (protocol == Protocol.UDP && pcp.enabled() && port == pcp.port() && listensOn(lan, address)) {
            return target + " is the gateway's own NAT-PMP/PCP service (udp " + port + ")";
        }
        if (protocol == Protocol.UDP && upnp.enabled() && upnp.ssdp() && port == 1900 && listensOn(lan, address)) {
            return target + " is the gateway's own SSDP service (udp 1900)";
        }
        if (protocol == Protocol.TCP && upnp.enabled() && port == upnp.httpPort() && listensOn(lan, address)) {
            return target + " is the gateway's own UPnP HTTP service (tcp " + port + ")";
        }
        if (protocol == Protocol.TCP && admin.enabled() && port == admin.port() && listensOn(admin.addresses(), address)) {
            return target + " is the gateway's own admin service (tcp " + port + ")";
        }
        boolean router = lan.stream().noneMatch(InetAddress::isLoopbackAddress);
        if (router && (lan.contains(address) || admin.addresses().contains(address))) {
            return target + " is one of the gateway's own addresses (a router never maps to itself)";
        }
        return null;
    }

    private static boolean listensOn(List<InetAddress> addresses, InetAddress address) {
        for (InetAddress a : addresses) {
            if (a.equals(address) || a.isAnyLocalAddress()) {
                return true;
            }
        }
        return false;
    }
}
