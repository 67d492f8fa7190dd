package io.natgw.igd;

import org.jupnp.transport.spi.InitializationException;
import org.jupnp.transport.spi.NetworkAddressFactory;
import org.jupnp.transport.spi.NoNetworkException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * jupnp's view of the network: exactly the LAN addresses UPnP serves (the configured ones, loopback included,
 * which jupnp's own factory skips, plus the link-local IPv6 addresses of the interfaces that carry a configured
 * IPv6 address: {@link IgdServer}) and the interfaces that carry them. SSDP and HTTP never open anything else.
 */
final class LanNetworkAddressFactory implements NetworkAddressFactory {

    private static final Logger LOG = LoggerFactory.getLogger(LanNetworkAddressFactory.class);
    private static final InetAddress SSDP_GROUP = RequestGuard.literal("239.255.255.250").orElseThrow();

    private final List<InetAddress> bindAddresses = new ArrayList<>();
    private final List<NetworkInterface> interfaces = new ArrayList<>();
    private final int httpPort;
    private final int ssdpPort;

    /** @param ssdpPort 0 when SSDP is off: no multicast receivers are opened */
    LanNetworkAddressFactory(List<InetAddress> lanAddresses, int httpPort, int ssdpPort) throws InitializationException {
        this.httpPort = httpPort;
        this.ssdpPort = ssdpPort;
        Set<NetworkInterface> nifs = new LinkedHashSet<>();
        for (InetAddress a : lanAddresses) {
            NetworkInterface nif;
            try {
                nif = NetworkInterface.getByInetAddress(a);
            } catch (SocketException e) {
                throw new InitializationException("cannot inspect the interface of " + a.getHostAddress(), e);
            }
            if (nif == null) {
                throw new NoNetworkException("LAN address " + a.getHostAddress() + " is not configured on any interface");
            }
            bindAddresses.add(a);
            nifs.add(nif);
        }
        if (ssdpPort > 0) {
            interfaces.addAll(nifs);
        }
        if (bindAddresses.isEmpty()) {
            throw new NoNetworkException("no LAN address to serve UPnP on");
        }
    }

    @Override
    public InetAddress getMulticastGroup() {
        return SSDP_GROUP;
    }

    @Override
    public int getMulticastPort() {
        return ssdpPort;
    }

    @Override
    public int getMulticastResponsePort() {
        return ssdpPort; // the datagram socket answers from the SSDP port, as UDA 1.1 asks (0 when SSDP is off)
    }

    @Override
    public int getStreamListenPort() {
        return httpPort;
    }

    @Override
    public Iterator<NetworkInterface> getNetworkInterfaces() {
        return interfaces.iterator();
    }

    @Override
    public Iterator<InetAddress> getBindAddresses() {
        return bindAddresses.iterator();
    }

    @Override
    public boolean hasUsableNetwork() {
        return !bindAddresses.isEmpty();
    }

    @Override
    public Short getAddressNetworkPrefixLength(InetAddress inetAddress) {
        InterfaceAddress ia = interfaceAddress(inetAddress);
        return ia == null ? null : ia.getNetworkPrefixLength();
    }

    @Override
    public byte[] getHardwareAddress(InetAddress inetAddress) {
        return null;
    }

    @Override
    public InetAddress getBroadcastAddress(InetAddress inetAddress) {
        return null;
    }

    /**
     * The LAN address that answers a client seen on {@code nif}, of the client's family: one in the client's subnet,
     * else the first on it. For IPv6 a global or ULA address is preferred to the link-local one even for a
     * link-local client (an SSDP search to ff02::c leaves from the client's link-local address): the client then
     * talks to the gateway from its own global/ULA address, the one it opens pinholes for (secure mode), and the
     * LOCATION needs no zone. The link-local address answers only when the interface has no other.
     */
    @Override
    public InetAddress getLocalAddress(NetworkInterface nif, boolean isIPv6, InetAddress remote) {
        boolean v6 = remote != null ? remote instanceof Inet6Address : isIPv6;
        InetAddress first = null;
        InetAddress linkLocal = null;
        for (InetAddress a : bindAddresses) {
            if ((a instanceof Inet6Address) != v6) {
                continue;
            }
            boolean onNif = nif == null || nif.inetAddresses().anyMatch(a::equals);
            if (!onNif) {
                continue;
            }
            if (a.isLinkLocalAddress()) {
                linkLocal = linkLocal == null ? a : linkLocal;
                continue;
            }
            if (first == null) {
                first = a;
            }
            InterfaceAddress ia = interfaceAddress(a);
            if (ia != null && remote != null && sameSubnet(a, remote, ia.getNetworkPrefixLength())) {
                return a;
            }
        }
        return first != null ? first : linkLocal != null ? linkLocal : bindAddresses.get(0);
    }

    /** The interfaces of the LAN addresses served (SSDP joins its groups on them when it is on). */
    List<NetworkInterface> lanInterfaces() {
        return List.copyOf(interfaces);
    }

    private static boolean sameSubnet(InetAddress a, InetAddress b, int prefix) {
        byte[] x = a.getAddress();
        byte[] y = b.getAddress();
        if (x.length != y.length) {
            return false;
        }
        for (int i = 0; i < x.length && prefix > 0; i++, prefix -= 8) {
            int mask = prefix >= 8 ? 0xff : (0xff << (8 - prefix)) & 0xff;
            if ((x[i] & mask) != (y[i] & mask)) {
                return false;
            }
        }
        return true;
    }

    private static InterfaceAddress interfaceAddress(InetAddress a) {
        try {
            NetworkInterface nif = NetworkInterface.getByInetAddress(a);
            if (nif != null) {
                for (InterfaceAddress ia : nif.getInterfaceAddresses()) {
                    if (ia.getAddress().equals(a)) {
                        return ia;
                    }
                }
            }
        } catch (SocketException e) {
            LOG.debug("cannot inspect interface of {}: {}", a.getHostAddress(), e.toString());
        }
        return null;
    }

    @Override
    public void logInterfaceInformation() {
        LOG.debug("UPnP LAN addresses {} on interfaces {}", bindAddresses, interfaces);
    }
}
