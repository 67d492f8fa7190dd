package io.natgw.igd;

import org.jupnp.transport.spi.InitializationException;
import org.jupnp.transport.spi.NetworkAddressFactory;
import org.jupnp.transport.spi.NoNetworkException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
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
 * jupnp's view of the network: exactly the configured LAN addresses (loopback included, which jupnp's own
 * factory skips) and the interfaces that carry them. SSDP and HTTP never open anything else.
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
            if (!(a instanceof Inet4Address)) {
                LOG.warn("UPnP skips LAN address {}: SSDP and the IGD are served over IPv4 only", a.getHostAddress());
                continue;
            }
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
            throw new NoNetworkException("no IPv4 LAN address to serve UPnP on");
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

    /** The LAN address that answers a client seen on {@code nif}: one in the client's subnet, else the first on it. */
    @Override
    public InetAddress getLocalAddress(NetworkInterface nif, boolean isIPv6, InetAddress remote) {
        InetAddress first = null;
        for (InetAddress a : bindAddresses) {
            InterfaceAddress ia = interfaceAddress(a);
            boolean onNif = nif == null || nif.inetAddresses().anyMatch(a::equals);
            if (!onNif) {
                continue;
            }
            if (first == null) {
                first = a;
            }
            if (ia != null && remote != null && sameSubnet(a, remote, ia.getNetworkPrefixLength())) {
                return a;
            }
        }
        return first != null ? first : bindAddresses.get(0);
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
