package io.natgw.igd;

import io.natgw.core.TrafficStats;

import java.util.function.Supplier;
import java.util.function.ToLongFunction;

import static io.natgw.igd.ServiceSpec.out;
import static io.natgw.igd.WanIpConnection.outputs;
import static org.jupnp.model.types.Datatype.Builtin.STRING;
import static org.jupnp.model.types.Datatype.Builtin.UI4;

/** WANCommonInterfaceConfig:1 (link properties, the dataplane's counters) and Layer3Forwarding:1. */
final class OtherServices {

    private OtherServices() {
    }

    /*
     * Link properties that natgw does not measure: it never reads the WAN link, so these are assumptions, stated
     * as such in the README (real link figures are a later issue). Clients need them: upnpc accepts an IGD only
     * when its link is "Up" and its connection "Connected" (WanIpConnection.ASSUMED_CONNECTION_STATUS).
     */
    /** Assumed, not measured: the WAN access type. */
    static final String ASSUMED_ACCESS_TYPE = "Ethernet";
    /** Assumed, not measured: 1 Gbit/s each way. */
    static final String ASSUMED_MAX_BIT_RATE = "1000000000";
    /** Assumed, not measured: natgw does not watch the WAN link's carrier. */
    static final String ASSUMED_LINK_STATUS = "Up";

    static ServiceSpec commonInterfaceConfig(TrafficStats traffic) {
        return ServiceSpec.of("WANCommonInterfaceConfig", 1, "WANCommonIFC1")
                .var("WANAccessType", STRING, false, () -> ASSUMED_ACCESS_TYPE)
                .var("Layer1UpstreamMaxBitRate", UI4, false, () -> ASSUMED_MAX_BIT_RATE)
                .var("Layer1DownstreamMaxBitRate", UI4, false, () -> ASSUMED_MAX_BIT_RATE)
                .var("PhysicalLinkStatus", STRING, true, () -> ASSUMED_LINK_STATUS)
                .var("TotalBytesSent", UI4, false, counter(traffic, TrafficStats.Counters::bytesSent))
                .var("TotalBytesReceived", UI4, false, counter(traffic, TrafficStats.Counters::bytesReceived))
                .var("TotalPacketsSent", UI4, false, counter(traffic, TrafficStats.Counters::packetsSent))
                .var("TotalPacketsReceived", UI4, false, counter(traffic, TrafficStats.Counters::packetsReceived))
                .action("GetCommonLinkProperties", (a, c) -> outputs("NewWANAccessType", ASSUMED_ACCESS_TYPE,
                                "NewLayer1UpstreamMaxBitRate", ASSUMED_MAX_BIT_RATE,
                                "NewLayer1DownstreamMaxBitRate", ASSUMED_MAX_BIT_RATE, "NewPhysicalLinkStatus", ASSUMED_LINK_STATUS),
                        out("NewWANAccessType", "WANAccessType"), out("NewLayer1UpstreamMaxBitRate", "Layer1UpstreamMaxBitRate"),
                        out("NewLayer1DownstreamMaxBitRate", "Layer1DownstreamMaxBitRate"),
                        out("NewPhysicalLinkStatus", "PhysicalLinkStatus"))
                .action("GetTotalBytesSent", (a, c) -> outputs("NewTotalBytesSent",
                        counter(traffic, TrafficStats.Counters::bytesSent).get()), out("NewTotalBytesSent", "TotalBytesSent"))
                .action("GetTotalBytesReceived", (a, c) -> outputs("NewTotalBytesReceived",
                        counter(traffic, TrafficStats.Counters::bytesReceived).get()), out("NewTotalBytesReceived", "TotalBytesReceived"))
                .action("GetTotalPacketsSent", (a, c) -> outputs("NewTotalPacketsSent",
                        counter(traffic, TrafficStats.Counters::packetsSent).get()), out("NewTotalPacketsSent", "TotalPacketsSent"))
                .action("GetTotalPacketsReceived", (a, c) -> outputs("NewTotalPacketsReceived",
                        counter(traffic, TrafficStats.Counters::packetsReceived).get()), out("NewTotalPacketsReceived", "TotalPacketsReceived"));
    }

    /** ui4 counters wrap at 2^32 (WANCommonInterfaceConfig:1 §2.2.9). */
    private static Supplier<String> counter(TrafficStats traffic, ToLongFunction<TrafficStats.Counters> field) {
        return () -> Long.toString(field.applyAsLong(traffic.totals()) & 0xffffffffL);
    }

    static ServiceSpec layer3Forwarding(Supplier<String> defaultConnectionService) {
        return ServiceSpec.of("Layer3Forwarding", 1, "L3Forwarding1")
                .var("DefaultConnectionService", STRING, true, defaultConnectionService)
                .action("GetDefaultConnectionService", (a, c) -> outputs("NewDefaultConnectionService", defaultConnectionService.get()),
                        out("NewDefaultConnectionService", "DefaultConnectionService"));
    }
}
