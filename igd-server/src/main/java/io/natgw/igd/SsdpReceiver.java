package io.natgw.igd;

import org.jupnp.model.message.IncomingDatagramMessage;
import org.jupnp.transport.Router;
import org.jupnp.transport.impl.MulticastReceiverConfigurationImpl;
import org.jupnp.transport.spi.DatagramProcessor;
import org.jupnp.transport.spi.InitializationException;
import org.jupnp.transport.spi.MulticastReceiver;
import org.jupnp.transport.spi.NetworkAddressFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;

/**
 * The SSDP sockets of one LAN interface. Unlike jupnp's receiver, which binds the wildcard address (every
 * interface, unicast included), it binds the SSDP group address itself and joins the group on the LAN interface
 * only: 239.255.255.250 when the interface has an IPv4 LAN address, the link-local group ff02::c (UDA 2.0 §1.1.2,
 * scoped to this interface) when it has an IPv6 one; plus one unicast socket per LAN address of that interface
 * (UDA 1.1 unicast M-SEARCH), so nothing sent to the gateway's other addresses on port 1900 reaches it. Which
 * sources are answered, and how often, is {@link IgdProtocolFactory}'s decision.
 */
@SuppressWarnings("rawtypes") // jupnp's transport SPI is raw-typed
final class SsdpReceiver implements MulticastReceiver<MulticastReceiverConfigurationImpl> {

    private static final Logger LOG = LoggerFactory.getLogger(SsdpReceiver.class);

    private final MulticastReceiverConfigurationImpl configuration;
    private final StartFailures failures;
    private final List<InetAddress> lanAddresses;
    private final List<DatagramSocket> unicast = new ArrayList<>();
    private Router router;
    private NetworkAddressFactory addresses;
    private DatagramProcessor processor;
    private NetworkInterface nif;
    private MulticastSocket socket;
    private MulticastSocket socket6;

    /** The SSDP group of IPv6 at link-local scope (UDA 2.0 §1.1.2). */
    static final InetAddress SSDP_GROUP6 = RequestGuard.literal("ff02::c").orElseThrow();

    SsdpReceiver(InetAddress group, int port, List<InetAddress> lanAddresses, StartFailures failures) {
        this.configuration = new MulticastReceiverConfigurationImpl(group, port, 640);
        this.lanAddresses = List.copyOf(lanAddresses);
        this.failures = failures;
    }

    @Override
    public synchronized void init(NetworkInterface networkInterface, Router router, NetworkAddressFactory networkAddressFactory,
                                  DatagramProcessor datagramProcessor) throws InitializationException {
        this.router = router;
        this.addresses = networkAddressFactory;
        this.processor = datagramProcessor;
        this.nif = networkInterface;
        boolean v4 = false;
        boolean v6 = false;
        for (InetAddress a : lanAddresses) {
            if (networkInterface.inetAddresses().anyMatch(a::equals)) {
                v4 |= a instanceof Inet4Address;
                v6 |= a instanceof Inet6Address;
            }
        }
        if (v4 || !v6) {
            socket = join(configuration.getGroup(), networkInterface);
        }
        if (v6) {
            if (!supportsMulticast(networkInterface)) {
                LOG.info("SSDP over IPv6 is off on {}: the interface has no multicast", networkInterface.getName());
            } else {
                try {
                    socket6 = join(Inet6Address.getByAddress(null, SSDP_GROUP6.getAddress(), networkInterface), networkInterface);
                } catch (java.net.UnknownHostException e) {
                    throw new InitializationException("ff02::c on " + networkInterface.getName(), e);
                } catch (InitializationException e) {
                    stop();
                    throw e;
                }
                MulticastSocket s6 = socket6;
                Thread t = new Thread(() -> receive(s6, null), "natgw-ssdp6-" + networkInterface.getName());
                t.setDaemon(true);
                t.start();
            }
        }
        for (InetAddress a : lanAddresses) {
            if (!networkInterface.inetAddresses().anyMatch(a::equals)) {
                continue;
            }
            try {
                DatagramSocket u = new DatagramSocket(null);
                u.setReuseAddress(true);
                u.bind(new InetSocketAddress(a, configuration.getPort()));
                unicast.add(u);
                Thread t = new Thread(() -> receive(u, a), "natgw-ssdp-unicast-" + a.getHostAddress());
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                stop();
                String why = "SSDP cannot listen on " + IgdServer.hostPort(a, configuration.getPort()) + ": " + e.getMessage();
                failures.add(why);
                throw new InitializationException(why, e);
            }
        }
        LOG.debug("SSDP listening on {} (IPv4 {}, IPv6 {})", networkInterface.getName(), socket != null, socket6 != null);
    }

    private static boolean supportsMulticast(NetworkInterface nif) {
        try {
            return nif.supportsMulticast();
        } catch (SocketException e) {
            return false;
        }
    }

    /** A socket bound to the SSDP group and port, joined on the interface; the failure names both. */
    private MulticastSocket join(InetAddress groupAddress, NetworkInterface networkInterface) throws InitializationException {
        InetSocketAddress group = new InetSocketAddress(groupAddress, configuration.getPort());
        try {
            MulticastSocket s = new MulticastSocket(null);
            try {
                s.setReuseAddress(true); // other SSDP stacks on the host may share the port, as they do with us
                s.bind(group);
                s.setReceiveBufferSize(32 * 1024);
                s.joinGroup(group, networkInterface);
            } catch (IOException e) {
                s.close();
                throw e;
            }
            return s;
        } catch (IOException e) {
            String why = "SSDP cannot listen on " + IgdServer.hostPort(groupAddress, group.getPort())
                    + " (interface " + networkInterface.getName() + "): " + e.getMessage();
            failures.add(why);
            throw new InitializationException(why, e);
        }
    }

    @Override
    public synchronized void stop() {
        if (socket != null && !socket.isClosed()) {
            socket.close();
        }
        if (socket6 != null && !socket6.isClosed()) {
            socket6.close();
        }
        for (DatagramSocket u : unicast) {
            u.close();
        }
        unicast.clear();
    }

    @Override
    public void run() {
        MulticastSocket s;
        synchronized (this) {
            s = socket;
        }
        if (s != null) {
            receive(s, null);
        }
    }

    /** @param local the LAN address a unicast socket is bound to; null for the multicast socket */
    private void receive(DatagramSocket s, InetAddress local) {
        byte[] buf = new byte[configuration.getMaxDatagramBytes()];
        while (!s.isClosed()) {
            DatagramPacket packet = new DatagramPacket(buf, buf.length);
            try {
                s.receive(packet);
            } catch (SocketException e) {
                return; // closed by stop()
            } catch (IOException e) {
                LOG.debug("SSDP receive on {} failed: {}", nif.getName(), e.toString());
                continue;
            }
            try {
                InetAddress receivedOn = local != null ? local : addresses.getLocalAddress(nif,
                        packet.getAddress() instanceof Inet6Address, packet.getAddress());
                IncomingDatagramMessage message = processor.read(receivedOn, packet);
                router.received(message);
            } catch (RuntimeException e) { // UnsupportedDataException included
                LOG.debug("dropped SSDP datagram from {}: {}", packet.getAddress().getHostAddress(), e.toString());
            }
        }
    }

    @Override
    public MulticastReceiverConfigurationImpl getConfiguration() {
        return configuration;
    }
}
