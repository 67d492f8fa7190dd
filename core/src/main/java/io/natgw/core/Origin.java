package io.natgw.core;

import java.util.Locale;

/** Which front-end a mapping (or a request) came through. */
public enum Origin {
    NATPMP, PCP, UPNP, ADMIN, CONFIG, TRIGGER;

    /** Admins and the configuration may map for any host and delete anything. */
    public boolean privileged() {
        return this == ADMIN || this == CONFIG;
    }

    /**
     * NAT-PMP and PCP identify a mapping by its internal endpoint (a repeat request refreshes it,
     * RFC 6886 §3.3, RFC 6887 §11.1); UPnP, admins and the configuration by its external port.
     */
    public boolean identifiesByInternal() {
        return this == NATPMP || this == PCP;
    }

    public String label() {
        return this == NATPMP ? "nat-pmp" : name().toLowerCase(Locale.ROOT);
    }
}
