package io.natgw.igd;

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
