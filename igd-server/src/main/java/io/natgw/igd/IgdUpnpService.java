package io.natgw.igd;

import io.natgw.conf.NatgwConfig;
import org.jupnp.UpnpServiceConfiguration;
import org.jupnp.UpnpServiceImpl;
import org.jupnp.controlpoint.ControlPoint;
import org.jupnp.controlpoint.ControlPointImpl;
import org.jupnp.model.message.header.UpnpHeader;
import org.jupnp.protocol.ProtocolFactory;
import org.jupnp.registry.Registry;

/** jupnp hosting the IGD as a device only: our protocol factory, and a control point that never searches. */
@SuppressWarnings({"rawtypes", "unchecked"}) // jupnp's model and transport APIs are raw-typed
final class IgdUpnpService extends UpnpServiceImpl {

    private final NatgwConfig.Network network;
    private final SsdpTargets targets;

    IgdUpnpService(UpnpServiceConfiguration configuration, NatgwConfig.Network network, SsdpTargets targets) {
        super(configuration);
        this.network = network;
        this.targets = targets;
    }

    @Override
    protected ProtocolFactory createProtocolFactory() {
        return new IgdProtocolFactory(this, network, targets);
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
