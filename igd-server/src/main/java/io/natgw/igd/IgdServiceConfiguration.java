package io.natgw.igd;

import io.netty.channel.EventLoopGroup;
import org.jupnp.DefaultUpnpServiceConfiguration;
import org.jupnp.model.message.OutgoingDatagramMessage;
import org.jupnp.model.types.ServiceType;
import org.jupnp.transport.Router;
import org.jupnp.transport.impl.DatagramIOConfigurationImpl;
import org.jupnp.transport.impl.DatagramIOImpl;
import org.jupnp.transport.spi.DatagramIO;
import org.jupnp.transport.spi.DatagramProcessor;
import org.jupnp.transport.spi.InitializationException;
import org.jupnp.transport.spi.MulticastReceiver;
import org.jupnp.transport.spi.NetworkAddressFactory;
import org.jupnp.transport.spi.SOAPActionProcessor;
import org.jupnp.transport.spi.StreamClient;
import org.jupnp.transport.spi.StreamServer;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.Inet6Address;
import java.net.MalformedURLException;
import java.net.URL;
import org.jupnp.model.message.header.UpnpHeader;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.LongAdder;

/**
 * jupnp wired for natgw: Netty HTTP server and client instead of Jetty, only the configured LAN addresses,
 * the hardened SOAP parser, SSDP sockets that send out of the LAN interface they belong to.
 */
@SuppressWarnings({"rawtypes", "unchecked"}) // jupnp's model and transport APIs are raw-typed
final class IgdServiceConfiguration extends DefaultUpnpServiceConfiguration {

    /** Where the pieces come from; set before jupnp asks for them (jupnp's constructor calls overridable methods). */
    record Parts(List<InetAddress> lanAddresses, int httpPort, int ssdpPort, EventLoopGroup group, HttpTransport transport,
                 ExecutorService workers,
                 RequestGuard guard, NettyStreamServer.Config http, StartFailures failures, IgdIdentity identity,
                 LongAdder shortcutAnswers) {
    }

    private final Parts parts;

    IgdServiceConfiguration(Parts parts) {
        super(parts.httpPort(), 0, false);
        this.parts = parts;
    }

    @Override
    protected NetworkAddressFactory createNetworkAddressFactory(int streamListenPort, int multicastResponsePort) {
        return new LanNetworkAddressFactory(parts.lanAddresses(), parts.httpPort(), parts.ssdpPort());
    }

    @Override
    @SuppressWarnings("rawtypes")
    public StreamServer createStreamServer(NetworkAddressFactory networkAddressFactory) {
        return new NettyStreamServer(parts.http(), parts.group(), parts.transport(), parts.workers(), parts.guard(), parts.failures(),
                parts.shortcutAnswers());
    }

    @Override
    @SuppressWarnings("rawtypes")
    public StreamClient createStreamClient() {
        return new NettyStreamClient(new NettyStreamClient.Config(getSyncProtocolExecutorService(), 5), parts.group(),
                parts.transport());
    }

    @Override
    public MulticastReceiver createMulticastReceiver(NetworkAddressFactory networkAddressFactory) {
        return parts.ssdpPort() > 0 ? new SsdpReceiver(networkAddressFactory.getMulticastGroup(),
                networkAddressFactory.getMulticastPort(), parts.lanAddresses(), parts.failures()) : null;
    }

    @Override
    public DatagramIO createDatagramIO(NetworkAddressFactory networkAddressFactory) {
        return parts.ssdpPort() > 0 ? new InterfaceDatagramIO(parts.failures(), parts.identity()) : null;
    }

    @Override
    protected SOAPActionProcessor createSOAPActionProcessor() {
        return new SafeSoapProcessor();
    }

    /** Discovery of other devices is off: this is a device, never a control point. */
    @Override
    public ServiceType[] getExclusiveServiceTypes() {
        return null;
    }

    /**
     * jupnp's datagram socket, bound to the LAN address and the SSDP port (so unicast search answers leave from
     * port 1900, UDA 1.1 section 1.3.3), and multicast (NOTIFY) leaves through the interface of its LAN address.
     * Every message it sends carries BOOTID.UPNP.ORG and CONFIGID.UPNP.ORG (UDA 1.1 section 1.2.2), which jupnp
     * does not write.
     */
    private static final class InterfaceDatagramIO extends DatagramIOImpl {
        private final StartFailures failures;
        private final IgdIdentity identity;
        private NetworkInterface ssdpInterface;

        InterfaceDatagramIO(StartFailures failures, IgdIdentity identity) {
            super(new DatagramIOConfigurationImpl());
            this.failures = failures;
            this.identity = identity;
        }

        /**
         * jupnp hands every datagram to every socket. A NOTIFY or search answer leaves only from the address its
         * LOCATION names (an IPv4 LOCATION from the IPv4 socket, a link-local one from the link-local socket, so
         * the client reaches the LOCATION with the zone the answer arrived on); a NOTIFY from an IPv6 socket goes to
         * ff02::c instead of jupnp's IPv4 group. A datagram of the other family is never attempted.
         */
        @Override
        public synchronized void send(OutgoingDatagramMessage message) {
            InetAddress bound = localAddress.getAddress();
            InetAddress location = locationAddress(message);
            InetAddress to = message.getDestinationAddress();
            boolean sameFamily = (to instanceof Inet6Address) == (bound instanceof Inet6Address);
            if (location != null ? !java.util.Arrays.equals(location.getAddress(), bound.getAddress())
                    : !sameFamily && !to.isMulticastAddress()) { // byebye (no LOCATION): every socket, to its group
                return;
            }
            message.getHeaders().add("BOOTID.UPNP.ORG", Long.toString(identity.bootId().value()));
            message.getHeaders().add("CONFIGID.UPNP.ORG", Integer.toString(identity.configId()));
            DatagramPacket packet = datagramProcessor.write(message);
            if (bound instanceof Inet6Address && !(message.getDestinationAddress() instanceof Inet6Address)) {
                if (!message.getDestinationAddress().isMulticastAddress() || ssdpInterface == null) {
                    return;
                }
                try {
                    packet.setAddress(Inet6Address.getByAddress(null, SsdpReceiver.SSDP_GROUP6.getAddress(), ssdpInterface));
                } catch (java.net.UnknownHostException e) {
                    return; // 16 bytes are always an address
                }
            }
            send(packet);
        }

        /**
         * The address in the message's LOCATION, read from the header's text: asking jupnp for the typed header
         * would parse every header of the message into each type it might be, and the NT and USN values of an
         * announcement fail most of them, each failure an exception with its stack trace (about 950 in the cold
         * start of a UPnP benchmark run, while the first requests were answered).
         */
        private static InetAddress locationAddress(OutgoingDatagramMessage message) {
            String location = message.getHeaders().getFirstHeader(UpnpHeader.Type.LOCATION.getHttpName());
            if (location == null) {
                return null;
            }
            String host;
            try {
                host = new URL(location).getHost();
            } catch (MalformedURLException e) {
                return null;
            }
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int zone = host.indexOf('%');
            return RequestGuard.literal(zone < 0 ? host : host.substring(0, zone)).orElse(null);
        }

        @Override
        public synchronized void init(InetAddress bindAddress, int bindPort, Router router, DatagramProcessor processor)
                throws InitializationException {
            try {
                super.init(bindAddress, bindPort, router, processor);
            } catch (InitializationException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                failures.add("SSDP cannot open its unicast socket on " + bindAddress.getHostAddress() + ":" + bindPort
                        + ": " + cause.getMessage());
                throw e;
            }
            try {
                NetworkInterface nif = NetworkInterface.getByInetAddress(bindAddress);
                if (nif != null) {
                    socket.setNetworkInterface(nif);
                    ssdpInterface = nif;
                }
            } catch (IOException e) {
                throw new InitializationException("cannot send SSDP from " + bindAddress.getHostAddress(), e);
            }
        }
    }
}
