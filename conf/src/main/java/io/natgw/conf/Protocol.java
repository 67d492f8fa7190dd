package io.natgw.conf;

import java.util.Locale;

/** A transport protocol that can be mapped. The wire numbers are IANA's (used by PCP). */
public enum Protocol {
    TCP(6),
    UDP(17);

    private final int ianaNumber;

    Protocol(int ianaNumber) {
        this.ianaNumber = ianaNumber;
    }

    public int ianaNumber() {
        return ianaNumber;
    }

    /** The lower-case name used in configuration and logs. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code tcp}/{@code udp} in any case; anything else is rejected with what is accepted. */
    public static Protocol parse(String text) {
        if (text != null) {
            switch (text.trim().toUpperCase(Locale.ROOT)) {
                case "TCP": return TCP;
                case "UDP": return UDP;
                default: break;
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a protocol (accepted: tcp, udp)");
    }

    /** The protocol with the given IANA number, or null when it is neither TCP nor UDP. */
    public static Protocol ofIana(int number) {
        for (Protocol p : values()) {
            if (p.ianaNumber == number) {
                return p;
            }
        }
        return null;
    }
}
