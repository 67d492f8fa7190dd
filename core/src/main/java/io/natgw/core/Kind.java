package io.natgw.core;

import java.util.Locale;

/** Static: admin/config, never expires. Dynamic: a client's lease. Triggered: opened by a trigger rule, expires on inactivity. */
public enum Kind {
    STATIC, DYNAMIC, TRIGGERED;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
