package io.natgw.pcp;

import io.natgw.conf.Protocol;

import java.net.Inet4Address;
import java.util.Arrays;
import java.util.HexFormat;

/** A NAT-PMP response (RFC 6886 §3.2, §3.3, §3.5). */
public sealed interface NatPmpResponse {

    /** Opcode 128: 12 octets. {@code address} is 0.0.0.0 when the gateway has none. */
    record ExternalAddress(NatPmpResultCode result, long epoch, Inet4Address address) implements NatPmpResponse {
    }

    /** Opcode 129 (UDP) or 130 (TCP): 16 octets. */
    record Map(Protocol protocol, NatPmpResultCode result, long epoch, int internalPort, int externalPort,
               long lifetime) implements NatPmpResponse {
    }

    /** The request echoed with the response bit and result 5 (RFC 6886 §3.5). */
    record UnsupportedOpcode(byte[] request) implements NatPmpResponse {
        public UnsupportedOpcode {
            request = request.clone();
        }

        @Override
        public byte[] request() {
            return request.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof UnsupportedOpcode u && Arrays.equals(u.request, request);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(request);
        }

        @Override
        public String toString() {
            return "UnsupportedOpcode[" + HexFormat.of().formatHex(request) + "]";
        }
    }
}
