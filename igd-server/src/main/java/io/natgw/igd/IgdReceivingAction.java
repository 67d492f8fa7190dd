package io.natgw.igd;

import org.jupnp.UpnpService;
import org.jupnp.model.UnsupportedDataException;
import org.jupnp.model.action.ActionException;
import org.jupnp.model.action.RemoteActionInvocation;
import org.jupnp.model.message.StreamRequestMessage;
import org.jupnp.model.message.StreamResponseMessage;
import org.jupnp.model.message.UpnpResponse;
import org.jupnp.model.message.control.IncomingActionRequestMessage;
import org.jupnp.model.message.control.OutgoingActionResponseMessage;
import org.jupnp.model.message.header.ContentTypeHeader;
import org.jupnp.model.message.header.UpnpHeader;
import org.jupnp.model.resource.ServiceControlResource;
import org.jupnp.model.types.ErrorCode;
import org.jupnp.protocol.sync.ReceivingAction;
import org.jupnp.util.Exceptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A SOAP action as jupnp runs it, with the IGD's error rules: a body that cannot be parsed (including any
 * DOCTYPE: see {@link SafeSoapProcessor}), a missing argument or a value of the wrong type is 402 Invalid
 * Args (jupnp says 600), and a client's bad request is logged at DEBUG without a stack trace.
 */
@SuppressWarnings({"rawtypes", "unchecked"}) // jupnp's model and transport APIs are raw-typed
final class IgdReceivingAction extends ReceivingAction {

    private static final Logger LOG = LoggerFactory.getLogger(IgdReceivingAction.class);

    IgdReceivingAction(UpnpService upnpService, StreamRequestMessage inputMessage) {
        super(upnpService, inputMessage);
    }

    @Override
    protected StreamResponseMessage executeSync() {
        ContentTypeHeader contentType = getInputMessage().getHeaders()
                .getFirstHeader(UpnpHeader.Type.CONTENT_TYPE, ContentTypeHeader.class);
        if (contentType != null && !contentType.isUDACompliantXML()) {
            return new StreamResponseMessage(UpnpResponse.Status.UNSUPPORTED_MEDIA_TYPE);
        }
        ServiceControlResource resource = getUpnpService().getRegistry()
                .getResource(ServiceControlResource.class, getInputMessage().getUri());
        if (resource == null) {
            return null;
        }
        RemoteActionInvocation invocation;
        OutgoingActionResponseMessage response;
        try {
            IncomingActionRequestMessage request = new IncomingActionRequestMessage(getInputMessage(), resource.getModel());
            invocation = new RemoteActionInvocation(request.getAction(), getRemoteClientInfo());
            getUpnpService().getConfiguration().getSoapActionProcessor().readBody(request, invocation);
            resource.getModel().getExecutor(invocation.getAction()).execute(invocation);
            if (invocation.getFailure() == null) {
                response = new OutgoingActionResponseMessage(invocation.getAction());
            } else {
                invocation.setFailure(asInvalidArgs(invocation.getFailure()));
                response = new OutgoingActionResponseMessage(UpnpResponse.Status.INTERNAL_SERVER_ERROR, invocation.getAction());
            }
        } catch (ActionException e) {
            LOG.debug("action from {} refused: {}", getRemoteClientInfo().getRemoteAddress(), e.getMessage());
            invocation = new RemoteActionInvocation(asInvalidArgs(e), getRemoteClientInfo());
            response = new OutgoingActionResponseMessage(UpnpResponse.Status.INTERNAL_SERVER_ERROR);
        } catch (UnsupportedDataException e) {
            Throwable cause = Exceptions.unwrap(e);
            LOG.debug("unreadable SOAP body from {}: {}", getRemoteClientInfo().getRemoteAddress(), cause.toString());
            ActionException failure = cause instanceof ActionException a ? asInvalidArgs(a)
                    : UpnpError.INVALID_ARGS.fault("unreadable");
            invocation = new RemoteActionInvocation(failure, getRemoteClientInfo());
            response = new OutgoingActionResponseMessage(UpnpResponse.Status.INTERNAL_SERVER_ERROR);
        }
        try {
            getUpnpService().getConfiguration().getSoapActionProcessor().writeBody(response, invocation);
            return response;
        } catch (UnsupportedDataException e) {
            LOG.warn("cannot write SOAP response: {}", e.toString());
            return new StreamResponseMessage(UpnpResponse.Status.INTERNAL_SERVER_ERROR);
        }
    }

    /** UDA's 600 "Argument Value Invalid" is what the IGD spec calls 402 Invalid Args. */
    static ActionException asInvalidArgs(ActionException e) {
        if (e.getErrorCode() == ErrorCode.ARGUMENT_VALUE_INVALID.getCode()) {
            return UpnpError.INVALID_ARGS.fault("unreadable");
        }
        return e;
    }
}
