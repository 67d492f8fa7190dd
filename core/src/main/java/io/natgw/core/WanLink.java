package io.natgw.core;

import java.util.OptionalLong;

/**
 * The WAN link as the kernel sees it: its state, its counters, its speed and how long it has been up. The IGD's
 * WANCommonInterfaceConfig and GetStatusInfo, the admin status and {@code /metrics} read it. Implementations never
 * throw from {@link #read()}: what they cannot read is reported as unknown.
 */
public interface WanLink {

    /** The link now. Never throws; may block for a few small file reads. */
    Reading read();

    /** Called (on any thread) after a {@link #read()} sees the link's {@link State} change; the default ignores it. */
    default void onStateChange(Runnable listener) {
    }

    /** What the link's operational state says about forwarding. */
    enum State {
        /** Carrier and the interface up: traffic can pass. */
        UP,
        /** Not yet up (RFC 2863 {@code dormant} or {@code testing}). */
        INITIALIZING,
        /** Administratively down, no carrier, or a lower layer down. */
        DOWN,
        /** The interface exists but its state could not be read or made sense of. */
        UNKNOWN,
        /** No interface is known: none holds the WAN address, or the configured one does not exist. */
        ABSENT
    }

    /**
     * One reading. Counters are what the interface has received from and sent to the WAN side since it was created
     * (all traffic, not only natgw's); -1 when unreadable.
     *
     * @param interfaceName   the interface read, or null when {@link State#ABSENT}
     * @param speedBitsPerSecond the link speed, -1 when the kernel does not know it (virtual links)
     * @param upSeconds       how long the link has been up as natgw observed it, -1 when it is not up
     * @param problem         why something is unknown or absent (one line, for status and logs), or null
     */
    record Reading(String interfaceName, State state, long bytesReceived, long bytesSent, long packetsReceived,
                   long packetsSent, long speedBitsPerSecond, long upSeconds, String problem) {

        public static Reading absent(String problem) {
            return new Reading(null, State.ABSENT, -1, -1, -1, -1, -1, -1, problem);
        }

        public OptionalLong speed() {
            return speedBitsPerSecond >= 0 ? OptionalLong.of(speedBitsPerSecond) : OptionalLong.empty();
        }
    }

    /** No link is read (embedding without a WAN interface): always {@link State#ABSENT}. */
    WanLink NONE = () -> Reading.absent("no WAN link reader");
}
