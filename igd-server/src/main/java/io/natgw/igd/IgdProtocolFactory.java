package io.natgw.igd;

import org.jupnp.UpnpService;
import org.jupnp.model.message.IncomingDatagramMessage;
import org.jupnp.model.message.StreamRequestMessage;
import org.jupnp.model.message.StreamResponseMessage;
import org.jupnp.model.message.UpnpRequest;
import org.jupnp.model.message.UpnpResponse;
import org.jupnp.protocol.ProtocolCreationException;
import org.jupnp.protocol.ProtocolFactoryImpl;
import org.jupnp.protocol.ReceivingAsync;
import org.jupnp.protocol.ReceivingSync;
import org.jupnp.protocol.sync.ReceivingAction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * jupnp's protocol selection for a device-only IGD: M-SEARCH from LAN clients is answered by
 * {@link IgdReceivingSearch}; other devices' NOTIFY and search responses are ignored (we are no control
 * point); actions go through {@link IgdReceivingAction}; requests no protocol serves get a plain HTTP error
 * instead of jupnp's logged stack trace.
 */
@SuppressWarnings({"rawtypes", "unchecked"}) // jupnp's model and transport APIs are raw-typed
final class IgdProtocolFactory extends ProtocolFactoryImpl {

    private static final Logger LOG = LoggerFactory.getLogger(IgdProtocolFactory.class);

    private final RequestGuard guard;
    private final SsdpTargets targets;
    private final SsdpLimiter limiter;

    IgdProtocolFactory(UpnpService upnpService, RequestGuard guard, SsdpTargets targets, SsdpLimiter limiter) {
        super(upnpService);
        this.guard = guard;
        this.targets = targets;
        this.limiter = limiter;
    }

    @Override
    public ReceivingAsync createReceivingAsync(IncomingDatagramMessage message) {
        if (!(message.getOperation() instanceof UpnpRequest request)
                || request.getMethod() != UpnpRequest.Method.MSEARCH) {
            return null; // NOTIFY and search responses of other devices: device-only, never a control point
        }
        if (!guard.isLanClient(message.getSourceAddress())) {
            LOG.debug("ignored M-SEARCH from {}: not a LAN client", message.getSourceAddress().getHostAddress());
            return null;
        }
        String st = message.getHeaders().getFirstHeader(org.jupnp.model.message.header.UpnpHeader.Type.ST.getHttpName());
        if (!SsdpTargets.wellFormed(st)) {
            LOG.debug("ignored M-SEARCH from {}: search target {}", message.getSourceAddress().getHostAddress(), st);
            return null;
        }
        if (!limiter.tryAcquire(message.getSourceAddress())) {
            LOG.debug("ignored M-SEARCH from {}: over the SSDP rate limit", message.getSourceAddress().getHostAddress());
            return null;
        }
        @SuppressWarnings("unchecked")
        IncomingDatagramMessage<UpnpRequest> search = message;
        return new IgdReceivingSearch(getUpnpService(), search, targets);
    }

    @Override
    public ReceivingSync createReceivingSync(StreamRequestMessage message) {
        if (message.getOperation().getMethod() == UpnpRequest.Method.NOTIFY) {
            return new Refuse(getUpnpService(), message, UpnpResponse.Status.NOT_FOUND);
        }
        try {
            return super.createReceivingSync(message);
        } catch (ProtocolCreationException e) {
            return new Refuse(getUpnpService(), message, UpnpResponse.Status.METHOD_NOT_SUPPORTED);
        }
    }

    @Override
    protected ReceivingAction createReceivingAction(StreamRequestMessage message) {
        return new IgdReceivingAction(getUpnpService(), message);
    }

    /** Answers a request no protocol serves with a fixed status. */
    private static final class Refuse extends ReceivingSync<StreamRequestMessage, StreamResponseMessage> {
        private final UpnpResponse.Status status;

        Refuse(UpnpService upnpService, StreamRequestMessage message, UpnpResponse.Status status) {
            super(upnpService, message);
            this.status = status;
        }

        @Override
        protected StreamResponseMessage executeSync() {
            LOG.debug("refused {} {}: {}", getInputMessage().getOperation().getHttpMethodName(),
                    getInputMessage().getUri(), status.getStatusCode());
            return new StreamResponseMessage(status);
        }
    }
}
