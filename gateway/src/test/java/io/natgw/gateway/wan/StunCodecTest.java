package io.natgw.gateway.wan;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class StunCodecTest {

    /** RFC 5769 §2.2, "Sample IPv4 Response": 192.0.2.1:32853. */
    static final byte[] RFC5769_IPV4_RESPONSE = HexFormat.of().parseHex(
            "0101003c" + "2112a442" + "b7e7a701bc34d686fa87dfae"      // Binding success, length 60, cookie, transaction id
                    + "8022000b" + "7465737420766563746f7220"          // SOFTWARE "test vector " (11 octets + 1 padding)
                    + "00200008" + "0001a147e112a643"                  // XOR-MAPPED-ADDRESS IPv4 192.0.2.1:32853
                    + "00080014" + "2b91f599fd9e90c38c7489f92af9ba53f06be7d7" // MESSAGE-INTEGRITY
                    + "80280004" + "c07d4c96");                        // FINGERPRINT
    static final byte[] RFC5769_ID = HexFormat.of().parseHex("b7e7a701bc34d686fa87dfae");

    @Test
    void rfc5769SampleIpv4ResponseGivesItsAddress() {
        assertEquals(new InetSocketAddress("192.0.2.1", 32853), StunCodec.mappedAddress(RFC5769_IPV4_RESPONSE, RFC5769_ID));
    }

    @Test
    void bindingRequestIsTheTwentyOctetHeader() {
        assertArrayEquals(HexFormat.of().parseHex("00010000" + "2112a442" + "b7e7a701bc34d686fa87dfae"),
                StunCodec.bindingRequest(RFC5769_ID));
    }

    @Test
    void anythingElseIsRefusedWithWhatWasExpected() {
        byte[] otherId = RFC5769_ID.clone();
        otherId[0] ^= 1;
        byte[] truncated = Arrays.copyOf(RFC5769_IPV4_RESPONSE, 40);
        byte[] error = RFC5769_IPV4_RESPONSE.clone();
        error[0] = 0x01;
        error[1] = 0x11;
        assertEquals(java.util.List.of("another transaction's response",
                        "length 60 for 20 octets of attributes (expected: equal, a multiple of 4)",
                        "message type 0x0111 (expected: 0x0101, Binding success)",
                        "a STUN message of 3 octets (expected: 20+)"),
                java.util.List.of(
                        assertThrows(IllegalArgumentException.class, () -> StunCodec.mappedAddress(RFC5769_IPV4_RESPONSE, otherId)).getMessage(),
                        assertThrows(IllegalArgumentException.class, () -> StunCodec.mappedAddress(truncated, RFC5769_ID)).getMessage(),
                        assertThrows(IllegalArgumentException.class, () -> StunCodec.mappedAddress(error, RFC5769_ID)).getMessage(),
                        assertThrows(IllegalArgumentException.class, () -> StunCodec.mappedAddress(new byte[3], RFC5769_ID)).getMessage()));
    }
}
