package io.natgw.it.igd;

import com.offbynull.portmapper.gateway.Gateway;
import com.offbynull.portmapper.gateways.network.NetworkGateway;
import com.offbynull.portmapper.mapper.MappedPort;
import com.offbynull.portmapper.mapper.PortType;
import com.offbynull.portmapper.mappers.upnpigd.PortMapperUpnpIgdPortMapper;
import io.natgw.igd.Soap;
import org.apache.commons.lang3.Range;
import org.bitlet.weupnp.GatewayDevice;
import org.bitlet.weupnp.PortMappingEntry;
import org.jupnp.DefaultUpnpServiceConfiguration;
import org.jupnp.UpnpService;
import org.jupnp.UpnpServiceImpl;
import org.jupnp.model.action.ActionInvocation;
import org.jupnp.model.message.UpnpResponse;
import org.jupnp.model.meta.RemoteDevice;
import org.jupnp.model.meta.RemoteDeviceIdentity;
import org.jupnp.model.meta.RemoteService;
import org.jupnp.model.types.UDAServiceType;
import org.jupnp.model.types.UDN;
import org.jupnp.model.types.UnsignedIntegerFourBytes;
import org.jupnp.model.types.UnsignedIntegerTwoBytes;
import org.jupnp.protocol.RetrieveRemoteDescriptors;
import org.jupnp.support.igd.callback.PortMappingAdd;
import org.jupnp.support.igd.callback.PortMappingDelete;
import org.jupnp.support.igd.callback.PortMappingEntryGet;
import org.jupnp.support.model.PortMapping;
import org.jupnp.transport.impl.NetworkAddressFactoryImpl;
import org.jupnp.transport.spi.DatagramIO;
import org.jupnp.transport.spi.MulticastReceiver;
import org.jupnp.transport.spi.NetworkAddressFactory;
import org.jupnp.transport.spi.StreamClient;
import org.jupnp.transport.spi.StreamServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URL;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Java UPnP clients against the real daemon: weupnp (which always asks for lease 0), offbynull portmapper's
 * UPnP path (IGD:2, AddAnyPortMapping), and jupnp's own control point with org.jupnp.support's callbacks.
 * All three discover only IGD:1 or skip loopback, so each is given the description or control URL.
 */
class JavaClientsE2eTest {

    private static final InetAddress LAN = IgdDaemon.address("127.0.0.1");
    private static IgdDaemon gw;

    /** What lease 0 means for an IGD:1 client here: unlike IGD:2's 604800 s, so the test tells the two rules apart. */
    private static final long V1_ZERO_LEASE = 86_400;

    @BeforeAll
    static void start() {
        gw = IgdDaemon.start(false, 0, Map.of("upnp.v1ZeroLease", V1_ZERO_LEASE));
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    /** Every TCP row, as IGD:2 lists them: an answer, or error 730 (no rows), else the check means nothing. */
    private static String listing() throws Exception {
        Soap.Result r = gw.soap(2).callFrom(LAN, "GetListOfPortMappings", "NewStartPort", "1", "NewEndPort", "65535",
                "NewProtocol", "TCP", "NewManage", "1", "NewNumberOfPorts", "0");
        assertTrue(r.ok() || r.errorCode() == 730, r.toString());
        return r.body();
    }

    @Test
    void weupnpMapsWithLeaseZeroReadsBackAndUnmaps() throws Exception {
        GatewayDevice d = new GatewayDevice();
        d.setLocation(gw.v1.toString());
        d.setLocalAddress(LAN);
        d.loadDescription();
        assertTrue(d.isConnected());
        assertEquals("127.0.1.1", d.getExternalIPAddress());
        assertTrue(d.addPortMapping(42001, 42001, "127.0.0.1", "TCP", "weupnp"));
        PortMappingEntry e = new PortMappingEntry();
        assertTrue(d.getSpecificPortMappingEntry(42001, "TCP", e));
        assertEquals(List.of("127.0.0.1", 42001, "weupnp"), List.of(e.getInternalClient(), e.getInternalPort(), e.getPortMappingDescription()));
        // this row's remaining lease: IGD:1's rule gives the configured v1ZeroLease, IGD:2's would give 604800 s
        Soap.Result row = gw.soap(2).callFrom(LAN, "GetSpecificPortMappingEntry", "NewRemoteHost", "",
                "NewExternalPort", "42001", "NewProtocol", "TCP");
        assertTrue(row.ok(), row.toString());
        long lease = Long.parseLong(row.out("NewLeaseDuration"));
        assertTrue(lease <= V1_ZERO_LEASE && lease > V1_ZERO_LEASE - 3600,
                "lease 0 from IGD:1 became upnp.v1ZeroLease (" + V1_ZERO_LEASE + " s), not " + lease + " s");
        assertTrue(d.deletePortMapping(42001, "TCP"));
        assertFalse(d.getSpecificPortMappingEntry(42001, "TCP", new PortMappingEntry()));
    }

    @Test
    void offbynullPortmapperMapsOverIgd2AndUnmaps() throws Exception {
        Gateway network = NetworkGateway.create();
        try {
            PortMapperUpnpIgdPortMapper mapper = new PortMapperUpnpIgdPortMapper(network.getBus(), LAN,
                    gw.control(2).toURL(), "natgw", "urn:schemas-upnp-org:service:WANIPConnection:2",
                    Range.between(1L, 65535L), Range.between(1L, 604800L), true);
            MappedPort port = mapper.mapPort(PortType.UDP, 42002, 42002, 600);
            assertEquals(42002, port.getInternalPort());
            assertTrue(port.getExternalPort() > 0);
            assertTrue(gw.soap(2).callFrom(LAN, "GetListOfPortMappings", "NewStartPort", "1", "NewEndPort", "65535",
                    "NewProtocol", "UDP", "NewManage", "1", "NewNumberOfPorts", "0").body()
                    .contains("<p:NewExternalPort>" + port.getExternalPort() + "</p:NewExternalPort>"));
            MappedPort refreshed = mapper.refreshPort(port, 900);
            assertEquals(port.getExternalPort(), refreshed.getExternalPort());
            mapper.unmapPort(refreshed);
            assertEquals(730, gw.soap(2).callFrom(LAN, "GetListOfPortMappings", "NewStartPort", "1", "NewEndPort", "65535",
                    "NewProtocol", "UDP", "NewManage", "1", "NewNumberOfPorts", "0").errorCode());
        } finally {
            network.getBus().send(new com.offbynull.portmapper.gateways.network.internalmessages.KillNetworkRequest());
        }
    }

    @Test
    void jupnpControlPointAddsReadsAndDeletes() throws Exception {
        UpnpService cp = new UpnpServiceImpl(new LoopbackControlPointConfiguration());
        cp.startup();
        try {
            Matcher udn = Pattern.compile("<UDN>uuid:([^<]+)</UDN>").matcher(gw.description(1));
            assertTrue(udn.find());
            RemoteDevice template = new RemoteDevice(new RemoteDeviceIdentity(new UDN(udn.group(1)), 1800,
                    new URL(gw.v1.toString()), null, LAN));
            new RetrieveRemoteDescriptors(cp, template).run();
            await().atMost(Duration.ofSeconds(10)).until(() -> cp.getRegistry().getRemoteDevices().size() == 1);
            RemoteService wanIp = (RemoteService) cp.getRegistry().getRemoteDevices().iterator().next()
                    .findService(new UDAServiceType("WANIPConnection", 1));
            assertNotNull(wanIp);

            PortMapping mapping = new PortMapping(42003, "127.0.0.1", PortMapping.Protocol.TCP, "jupnp");
            mapping.setLeaseDurationSeconds(new UnsignedIntegerFourBytes(600));
            CompletableFuture<String> added = new CompletableFuture<>();
            cp.getControlPoint().execute(new PortMappingAdd(wanIp, mapping) {
                @Override
                public void success(ActionInvocation invocation) {
                    added.complete("ok");
                }

                @Override
                public void failure(ActionInvocation invocation, UpnpResponse operation, String msg) {
                    added.complete(msg);
                }
            });
            assertEquals("ok", added.get(10, TimeUnit.SECONDS));

            CompletableFuture<PortMapping> entry = new CompletableFuture<>();
            cp.getControlPoint().execute(new PortMappingEntryGet(wanIp, 0) {
                @Override
                protected void success(PortMapping portMapping) {
                    entry.complete(portMapping);
                }

                @Override
                public void failure(ActionInvocation invocation, UpnpResponse operation, String msg) {
                    entry.completeExceptionally(new AssertionError(msg));
                }
            });
            PortMapping got = entry.get(10, TimeUnit.SECONDS);
            assertEquals(List.of(new UnsignedIntegerTwoBytes(42003), "127.0.0.1", "jupnp"),
                    List.of(got.getExternalPort(), got.getInternalClient(), got.getDescription()));

            CompletableFuture<String> deleted = new CompletableFuture<>();
            cp.getControlPoint().execute(new PortMappingDelete(wanIp, mapping) {
                @Override
                public void success(ActionInvocation invocation) {
                    deleted.complete("ok");
                }

                @Override
                public void failure(ActionInvocation invocation, UpnpResponse operation, String msg) {
                    deleted.complete(msg);
                }
            });
            assertEquals("ok", deleted.get(10, TimeUnit.SECONDS));
            assertFalse(listing().contains(">42003<"));
        } finally {
            cp.shutdown();
        }
    }

    /** A control point on loopback only, with no HTTP server (no GENA callbacks needed) and no SSDP sockets. */
    private static final class LoopbackControlPointConfiguration extends DefaultUpnpServiceConfiguration {
        LoopbackControlPointConfiguration() {
            super(0, 0, false);
        }

        @Override
        protected NetworkAddressFactory createNetworkAddressFactory(int streamListenPort, int multicastResponsePort) {
            return new NetworkAddressFactoryImpl(streamListenPort, multicastResponsePort) {
                @Override
                protected boolean isUsableNetworkInterface(NetworkInterface iface) throws Exception {
                    return iface.isLoopback() && iface.isUp();
                }

                @Override
                protected boolean isUsableAddress(NetworkInterface networkInterface, InetAddress address) {
                    return address.equals(LAN);
                }
            };
        }

        @Override
        @SuppressWarnings("rawtypes")
        public StreamClient createStreamClient() {
            return new JdkStreamClient();
        }

        @Override
        @SuppressWarnings("rawtypes")
        public StreamServer createStreamServer(NetworkAddressFactory networkAddressFactory) {
            return null;
        }

        @Override
        public MulticastReceiver createMulticastReceiver(NetworkAddressFactory networkAddressFactory) {
            return null;
        }

        @Override
        public DatagramIO createDatagramIO(NetworkAddressFactory networkAddressFactory) {
            return null;
        }
    }
}
