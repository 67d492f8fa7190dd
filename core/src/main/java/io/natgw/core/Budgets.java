package io.natgw.core;

import io.natgw.conf.NatgwConfig;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;

/**
 * The table's size budget: every relayed mapping holds a socket of its own and its connections two more, so the
 * table must stay well below the process's open-files limit, or a full table takes the control plane down with
 * it. Pure arithmetic over the limit, which {@link #openFilesLimit()} reads once at start.
 */
public final class Budgets {

    /** More rows than there are protocol and port pairs only come with remote filters; no descriptor limit needs it. */
    static final int CEILING = 2 * 65536;

    private Budgets() {
    }

    /** The most mappings {@code limits} allows, and why (the sentence the table logs at start). */
    public record MaxMappings(int value, String why, boolean clamped) {
    }

    /** The process's open-files limit (RLIMIT_NOFILE), or -1 where the JVM cannot tell. */
    public static long openFilesLimit() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return -1;
    }

    /** Mappings that fit a limit: a reserve of a tenth (at least 256) for the gateway, then two descriptors each. */
    public static int fromOpenFiles(long limit) {
        long reserve = Math.max(256, limit / 10);
        long fit = (limit - reserve) / 2;
        return (int) Math.max(16, Math.min(CEILING, fit));
    }

    /**
     * {@code limits.maxMappings} as the table applies it. {@code auto} becomes what the open-files limit allows;
     * an explicit value above that is lowered to it while mappings hold descriptors ({@code relaying}).
     */
    public static MaxMappings maxMappings(NatgwConfig.Limits limits, boolean relaying, long openFiles) {
        int configured = limits.maxMappings();
        if (openFiles <= 0 || !relaying) {
            int v = configured == NatgwConfig.Limits.AUTO ? 65536 : configured;
            return new MaxMappings(v, "maxMappings " + v + (configured == NatgwConfig.Limits.AUTO
                    ? " (auto: " + (relaying ? "the open-files limit is unknown" : "the dataplane holds no descriptors") + ")"
                    : " (limits.maxMappings)"), false);
        }
        int fit = fromOpenFiles(openFiles);
        if (configured == NatgwConfig.Limits.AUTO) {
            return new MaxMappings(fit, "maxMappings " + fit + " (from the open-files limit " + openFiles + ")", false);
        }
        if (configured > fit) {
            return new MaxMappings(fit, "maxMappings " + fit + ": limits.maxMappings " + configured
                    + " is more than the open-files limit " + openFiles + " allows (raise it with ulimit -n or"
                    + " LimitNOFILE=)", true);
        }
        return new MaxMappings(configured, "maxMappings " + configured + " (limits.maxMappings; the open-files limit "
                + openFiles + " allows " + fit + ")", false);
    }
}
