package io.natgw.pcp;

import java.util.HexFormat;
import java.util.Locale;

/** The 96-bit mapping nonce of MAP and PEER (RFC 6887 §11.1), as the 24 hex digits the table stores. */
public record PcpNonce(String hex) {

    public static final int LENGTH = 12;

    public PcpNonce {
        if (hex == null || hex.length() != 2 * LENGTH || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new IllegalArgumentException("nonce '" + hex + "' is not 24 hex digits");
        }
        hex = hex.toLowerCase(Locale.ROOT);
    }

    public static PcpNonce of(byte[] twelveOctets) {
        if (twelveOctets.length != LENGTH) {
            throw new IllegalArgumentException("nonce of " + twelveOctets.length + " octets (expected: 12)");
        }
        return new PcpNonce(HexFormat.of().formatHex(twelveOctets));
    }

    public byte[] bytes() {
        return HexFormat.of().parseHex(hex);
    }

    @Override
    public String toString() {
        return hex;
    }
}
