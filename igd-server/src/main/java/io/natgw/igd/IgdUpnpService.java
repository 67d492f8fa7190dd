package io.natgw.igd;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import org.jupnp.model.NetworkAddress;
import org.jupnp.transport.RouterException;

import org.jupnp.UpnpServiceConfiguration;
import org.jupnp.UpnpServiceImpl;
import org.jupnp.controlpoint.ControlPoint;
import org.jupnp.controlpoint.ControlPointImpl;
import org.jupnp.model.message.header.UpnpHeader;
import org.jupnp.protocol.ProtocolFactory;
import org.jupnp.model.gena.LocalGENASubscription;
import org.jupnp.registry.Registry;
import org.jupnp.registry.RegistryImpl;
import org.jupnp.transport.Router;
import org.jupnp.transport.RouterImpl;
import org.jupnp.transport.spi.InitializationException;

/** jupnp hosting the IGD as a device only: our protocol factory, and a control point that never searches. */
@SuppressWarnings({"rawtypes", "unchecked"}) // jupnp's model and transport APIs are raw-typed
final class IgdUpnpService extends UpnpServiceImpl {

    private final RequestGuard guard;
    private final SsdpTargets targets;
    private final SsdpLimiter limiter;
    private final StartFailures failures;
    private final GenaBudget gena;

    IgdUpnpService(UpnpServiceConfiguration configuration, RequestGuard guard, SsdpTargets targets,
                   SsdpLimiter limiter, StartFailures failures, GenaBudget gena) {
        super(configuration);
        this.gena = gena;
        this.guard = guard;
        this.targets = targets;
        this.limiter = limiter;
        this.failures = failures;
    }

    /** jupnp's registry, counting the GENA subscriptions each client holds ({@link GenaBudget}). */
    @Override
    protected Registry createRegistry(ProtocolFactory protocolFactory) {
        return new RegistryImpl(this) {
            @Override
            public void addLocalSubscription(LocalGENASubscription subscription) {
                super.addLocalSubscription(subscription);
                gena.registered();
                gena.added(subscription);
            }

            @Override
            public boolean removeLocalSubscription(LocalGENASubscription subscription) {
                boolean removed = super.removeLocalSubscription(subscription);
                if (removed) {
                    gena.unregistered();
                }
                gena.removed(subscription);
                return removed;
            }
        };
    }

    /** jupnp's router, but a start failure is kept for {@link IgdServer#start()}'s message, not only logged. */
    @Override
    protected Router createRouter(ProtocolFactory protocolFactory, Registry registry) {
        return new RouterImpl(getConfiguration(), protocolFactory) {
            /**
             * The HTTP servers' addresses, for the LOCATION of SSDP messages: a link-local IPv6 address without its
             * zone (the gateway's interface name means nothing to the client, which uses the zone the answer came
             * in on). Addresses compare without zone, so lookups by a scoped address still find them.
             */
            @Override
            public List<NetworkAddress> getActiveStreamServers(InetAddress preferredAddress) throws RouterException {
                List<NetworkAddress> out = new ArrayList<>();
                for (NetworkAddress a : super.getActiveStreamServers(preferredAddress)) {
                    out.add(a.getAddress() instanceof Inet6Address v6
                            ? new NetworkAddress(IgdServer.unscoped(v6), a.getPort(), a.getHardwareAddress()) : a);
                }
                return out;
            }

            @Override
            public void handleStartFailure(InitializationException ex) throws InitializationException {
                failures.add("UPnP cannot open its sockets: " + ex.getMessage());
                super.handleStartFailure(ex);
            }
        };
    }

    @Override
    protected ProtocolFactory createProtocolFactory() {
        return new IgdProtocolFactory(this, guard, targets, limiter);
    }

    @Override
    protected ControlPoint createControlPoint(ProtocolFactory protocolFactory, Registry registry) {
        return new ControlPointImpl(getConfiguration(), protocolFactory, registry) {
            @Override
            public void search(UpnpHeader searchType, int mxSeconds) {
                // device-only: natgw never searches the LAN for other devices
            }
        };
    }
}
