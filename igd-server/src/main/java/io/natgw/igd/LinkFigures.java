package io.natgw.igd;

import io.natgw.core.WanLink;

/**
 * The WAN link's reading in the words of WANCommonInterfaceConfig:1 and WANIPConnection. The spec's allowed values:
 * PhysicalLinkStatus Up, Down, Initializing, Unavailable; ConnectionStatus Unconfigured, Connecting, Connected,
 * PendingDisconnect, Disconnecting, Disconnected; LastConnectionError ERROR_NONE … ERROR_NO_CARRIER,
 * ERROR_IP_CONFIGURATION, ERROR_UNKNOWN.
 */
final class LinkFigures {

    /** ui4's range: counters wrap at 2^32 (WANCommonInterfaceConfig:1, TotalBytesSent …: "wrap around"). */
    static final long UI4 = 0xffffffffL;

    private LinkFigures() {
    }

    static String physicalLinkStatus(WanLink.Reading r) {
        return switch (r.state()) {
            case UP -> "Up";
            case INITIALIZING -> "Initializing";
            case DOWN -> "Down";
            case UNKNOWN, ABSENT -> "Unavailable";
        };
    }

    static String connectionStatus(WanLink.Reading r) {
        return switch (r.state()) {
            case UP -> "Connected";
            case INITIALIZING -> "Connecting";
            case DOWN, UNKNOWN, ABSENT -> "Disconnected";
        };
    }

    /** Why the connection is not up now (ERROR_NONE while it is up or coming up). */
    static String lastConnectionError(WanLink.Reading r) {
        return switch (r.state()) {
            case UP, INITIALIZING -> "ERROR_NONE";
            case DOWN -> "ERROR_NO_CARRIER";
            case ABSENT -> "ERROR_IP_CONFIGURATION"; // no interface holds the WAN address (or none is configured)
            case UNKNOWN -> "ERROR_UNKNOWN";
        };
    }

    /** Seconds the link has been up, wrapped to ui4; 0 when it is not up. */
    static String uptime(WanLink.Reading r) {
        return Long.toString(r.state() == WanLink.State.UP && r.upSeconds() > 0 ? r.upSeconds() & UI4 : 0);
    }

    /** A ui4 counter: wraps at 2^32 as the spec says; an unreadable counter is 0 (ui4 has no "unknown"). */
    static String counter(long value) {
        return Long.toString(value < 0 ? 0 : value & UI4);
    }

    /**
     * Layer1Up/DownstreamMaxBitRate: the link speed in bit/s, saturated at ui4's maximum (a rate does not wrap);
     * 0 when the kernel does not know the speed (virtual links): the spec defines no "unknown" value for this ui4,
     * and any positive figure would be a claim natgw cannot make.
     */
    static String maxBitRate(WanLink.Reading r) {
        return Long.toString(r.speedBitsPerSecond() < 0 ? 0 : Math.min(r.speedBitsPerSecond(), UI4));
    }
}
