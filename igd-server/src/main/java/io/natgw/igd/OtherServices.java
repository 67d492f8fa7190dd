package io.natgw.igd;

import io.natgw.core.WanLink;

import java.util.function.Supplier;
import java.util.function.ToLongFunction;

import static io.natgw.igd.ServiceSpec.out;
import static io.natgw.igd.WanIpConnection.outputs;
import static org.jupnp.model.types.Datatype.Builtin.STRING;
import static org.jupnp.model.types.Datatype.Builtin.UI4;

/** WANCommonInterfaceConfig:1 (the WAN link's properties and counters) and Layer3Forwarding:1. */
final class OtherServices {

    private OtherServices() {
    }

    /**
     * Not measured: the WAN access type. The kernel says only that the WAN interface is Ethernet-framed (or not); what
     * lies behind it (DSL, cable) is not visible, and the spec's allowed values are DSL, POTS, Cable, Ethernet.
     */
    static final String ACCESS_TYPE = "Ethernet";

    /**
     * The link properties and counters of the WAN interface ({@link WanLink}): what the spec means by "the WAN
     * interface" is the link, so the counters are all the interface's traffic, not only natgw's relays (the admin
     * API and {@code /metrics} show those separately). Each action reads the link once; nothing here throws on an
     * unreadable figure (see {@link LinkFigures}).
     */
    static ServiceSpec commonInterfaceConfig(WanLink link) {
        return ServiceSpec.of("WANCommonInterfaceConfig", 1, "WANCommonIFC1")
                .var("WANAccessType", STRING, false, () -> ACCESS_TYPE)
                .var("Layer1UpstreamMaxBitRate", UI4, false, () -> LinkFigures.maxBitRate(link.read()))
                .var("Layer1DownstreamMaxBitRate", UI4, false, () -> LinkFigures.maxBitRate(link.read()))
                .var("PhysicalLinkStatus", STRING, true, () -> LinkFigures.physicalLinkStatus(link.read()))
                .var("TotalBytesSent", UI4, false, counter(link, WanLink.Reading::bytesSent))
                .var("TotalBytesReceived", UI4, false, counter(link, WanLink.Reading::bytesReceived))
                .var("TotalPacketsSent", UI4, false, counter(link, WanLink.Reading::packetsSent))
                .var("TotalPacketsReceived", UI4, false, counter(link, WanLink.Reading::packetsReceived))
                .action("GetCommonLinkProperties", (a, c) -> {
                            WanLink.Reading r = link.read();
                            String rate = LinkFigures.maxBitRate(r);
                            return outputs("NewWANAccessType", ACCESS_TYPE, "NewLayer1UpstreamMaxBitRate", rate,
                                    "NewLayer1DownstreamMaxBitRate", rate, "NewPhysicalLinkStatus", LinkFigures.physicalLinkStatus(r));
                        },
                        out("NewWANAccessType", "WANAccessType"), out("NewLayer1UpstreamMaxBitRate", "Layer1UpstreamMaxBitRate"),
                        out("NewLayer1DownstreamMaxBitRate", "Layer1DownstreamMaxBitRate"),
                        out("NewPhysicalLinkStatus", "PhysicalLinkStatus"))
                .action("GetTotalBytesSent", (a, c) -> outputs("NewTotalBytesSent",
                        counter(link, WanLink.Reading::bytesSent).get()), out("NewTotalBytesSent", "TotalBytesSent"))
                .action("GetTotalBytesReceived", (a, c) -> outputs("NewTotalBytesReceived",
                        counter(link, WanLink.Reading::bytesReceived).get()), out("NewTotalBytesReceived", "TotalBytesReceived"))
                .action("GetTotalPacketsSent", (a, c) -> outputs("NewTotalPacketsSent",
                        counter(link, WanLink.Reading::packetsSent).get()), out("NewTotalPacketsSent", "TotalPacketsSent"))
                .action("GetTotalPacketsReceived", (a, c) -> outputs("NewTotalPacketsReceived",
                        counter(link, WanLink.Reading::packetsReceived).get()), out("NewTotalPacketsReceived", "TotalPacketsReceived"));
    }

    private static Supplier<String> counter(WanLink link, ToLongFunction<WanLink.Reading> field) {
        return () -> LinkFigures.counter(field.applyAsLong(link.read()));
    }

    static ServiceSpec layer3Forwarding(Supplier<String> defaultConnectionService) {
        return ServiceSpec.of("Layer3Forwarding", 1, "L3Forwarding1")
                .var("DefaultConnectionService", STRING, true, defaultConnectionService)
                .action("GetDefaultConnectionService", (a, c) -> outputs("NewDefaultConnectionService", defaultConnectionService.get()),
                        out("NewDefaultConnectionService", "DefaultConnectionService"));
    }
}
