package io.natgw.igd;

import org.jupnp.UpnpService;
import org.jupnp.model.Location;
import org.jupnp.model.NetworkAddress;
import org.jupnp.model.message.IncomingDatagramMessage;
import org.jupnp.model.message.UpnpRequest;
import org.jupnp.model.message.discovery.OutgoingSearchResponse;
import org.jupnp.model.message.header.STAllHeader;
import org.jupnp.model.message.header.UpnpHeader;
import org.jupnp.transport.RouterException;
import org.jupnp.protocol.async.ReceivingSearch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers an M-SEARCH at once (some clients wait only 250 ms, so no random MX delay), multicast or unicast.
 * {@code upnp:rootdevice} and {@code uuid:} targets are answered by jupnp (one answer per root, or for the
 * device named); a device or service type is answered from the tree of its version ({@link SsdpTargets}) with
 * the ST echoed exactly as searched. {@code ssdp:all} gets one answer per root (its IGD device type) instead of
 * one per device and service (14 answers, 6 KB for a 94-byte search): every search gets at most two answers.
 */
@SuppressWarnings({"rawtypes", "unchecked"}) // jupnp's model and transport APIs are raw-typed
final class IgdReceivingSearch extends ReceivingSearch {

    private static final Logger LOG = LoggerFactory.getLogger(IgdReceivingSearch.class);

    private final SsdpTargets targets;

    IgdReceivingSearch(UpnpService upnpService, IncomingDatagramMessage<UpnpRequest> message, SsdpTargets targets) {
        super(upnpService, message);
        this.targets = targets;
    }

    @Override
    protected boolean waitBeforeExecution() {
        return true;
    }

    @Override
    protected void sendResponses(UpnpHeader searchTarget, NetworkAddress server) throws RouterException {
        String st = getInputMessage().getHeaders().getFirstHeader(UpnpHeader.Type.ST.getHttpName());
        LOG.debug("M-SEARCH {} from {}", st, getInputMessage().getSourceAddress().getHostAddress());
        boolean ipv6 = getInputMessage().getSourceAddress() instanceof java.net.Inet6Address;
        if (searchTarget instanceof STAllHeader) {
            for (org.jupnp.model.meta.LocalDevice root : targets.roots(ipv6)) {
                send(new SsdpTargets.Match(root, root), root.getType().toString(), server);
            }
            return;
        }
        if (st == null || !st.trim().toLowerCase(java.util.Locale.ROOT).startsWith("urn:")) {
            super.sendResponses(searchTarget, server);
            return;
        }
        String echoed = st.trim();
        for (SsdpTargets.Match m : targets.match(echoed, ipv6)) {
            send(m, echoed, server);
        }
    }

    private void send(SsdpTargets.Match m, String echoed, NetworkAddress server) throws RouterException {
        Location location = new Location(server,
                getUpnpService().getConfiguration().getNamespace().getDescriptorPathString(m.root()));
        OutgoingSearchResponse response = new OutgoingSearchResponse(getInputMessage(), location, m.root());
        response.getHeaders().add(UpnpHeader.Type.ST.getHttpName(), echoed);
        response.getHeaders().add(UpnpHeader.Type.USN.getHttpName(),
                m.device().getIdentity().getUdn().toString() + "::" + echoed);
        getUpnpService().getRouter().send(response);
    }
}
