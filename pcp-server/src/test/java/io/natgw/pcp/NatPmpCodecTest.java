package io.natgw.pcp;

import io.natgw.conf.Protocol;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static io.natgw.pcp.Bytes.buf;
import static io.natgw.pcp.Bytes.cut;
import static io.natgw.pcp.Bytes.of;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RFC 6886 §3 layouts as literal octets. */
class NatPmpCodecTest {

    /** §3.2: external address request. */
    static final byte[] EXTERNAL_ADDRESS_REQUEST = of(
            0, // version
            0); // opcode 0

    /** §3.3: map TCP, internal 6000, suggested external 6001, lifetime 7200 s. */
    static final byte[] MAP_TCP_REQUEST = of(
            0, 2, // version, opcode 2 = TCP
            0, 0, // reserved
            0x17, 0x70, // internal port 6000
            0x17, 0x71, // suggested external port 6001
            0x00, 0x00, 0x1c, 0x20); // requested lifetime 7200

    /** §3.3: map UDP, internal 5000, no suggestion, lifetime 3 600 000 s (seen in the wild). */
    static final byte[] MAP_UDP_LONG_REQUEST = of(
            0, 1, // version, opcode 1 = UDP
            0, 0, // reserved
            0x13, 0x88, // internal port 5000
            0, 0, // suggested external port: none
            0x00, 0x36, 0xee, 0x80); // 3 600 000

    /** §3.4: lifetime 0 with internal port 0: delete all of the client's UDP mappings. */
    static final byte[] DELETE_ALL_UDP = of(0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /** Largest lifetime: unsigned 32 bits. */
    static final byte[] MAP_MAX_LIFETIME = of(0, 2, 0, 0, 0, 80, 0, 80, 0xff, 0xff, 0xff, 0xff);

    /** §3.2: external address response: result 0, epoch 3600, 127.0.1.1. */
    static final byte[] EXTERNAL_ADDRESS_RESPONSE = of(
            0, 128, // version, opcode 128
            0, 0, // result 0
            0, 0, 0x0e, 0x10, // seconds since start of epoch 3600
            127, 0, 1, 1); // external address

    /** §3.3: TCP map response: result 0, epoch 5, internal 6000, external 6001, lifetime 7200. */
    static final byte[] MAP_TCP_RESPONSE = of(
            0, 130, // version, opcode 128 + 2
            0, 0, // result
            0, 0, 0, 5, // epoch
            0x17, 0x70, // internal port
            0x17, 0x71, // mapped external port
            0, 0, 0x1c, 0x20); // lifetime

    @Test
    void decodesExternalAddressRequest() throws Exception {
        assertEquals(new NatPmpRequest.ExternalAddress(), NatPmpCodec.decodeRequest(buf(EXTERNAL_ADDRESS_REQUEST)));
    }

    @Test
    void decodesMapRequestsOfBothProtocols() throws Exception {
        assertEquals(new NatPmpRequest.Map(Protocol.TCP, 6000, 6001, 7200), NatPmpCodec.decodeRequest(buf(MAP_TCP_REQUEST)));
        assertEquals(new NatPmpRequest.Map(Protocol.UDP, 5000, 0, 3_600_000), NatPmpCodec.decodeRequest(buf(MAP_UDP_LONG_REQUEST)));
        assertEquals(new NatPmpRequest.Map(Protocol.UDP, 0, 0, 0), NatPmpCodec.decodeRequest(buf(DELETE_ALL_UDP)));
        assertEquals(new NatPmpRequest.Map(Protocol.TCP, 80, 80, 4_294_967_295L), NatPmpCodec.decodeRequest(buf(MAP_MAX_LIFETIME)));
    }

    @Test
    void encodeRequestIsTheInverse() throws Exception {
        for (byte[] v : new byte[][] {EXTERNAL_ADDRESS_REQUEST, MAP_TCP_REQUEST, MAP_UDP_LONG_REQUEST, DELETE_ALL_UDP, MAP_MAX_LIFETIME}) {
            assertArrayEquals(v, NatPmpCodec.encodeRequest(NatPmpCodec.decodeRequest(buf(v))));
        }
    }

    @Test
    void mapRequestOneOctetShortIsIgnoredAndNamesTheField() {
        for (int length = 2; length < 12; length++) {
            byte[] shortened = cut(MAP_TCP_REQUEST, length);
            PcpFormatException e = assertThrows(PcpFormatException.class, () -> NatPmpCodec.decodeRequest(buf(shortened)));
            assertTrue(e.silent());
            assertEquals("requested lifetime", e.field());
        }
    }

    @Test
    void fewerThanTwoOctetsAreIgnored() {
        assertTrue(assertThrows(PcpFormatException.class, () -> NatPmpCodec.decodeRequest(buf(of(0)))).silent());
        assertTrue(assertThrows(PcpFormatException.class, () -> NatPmpCodec.decodeRequest(buf(new byte[0]))).silent());
    }

    @Test
    void trailingOctetsAfterAMapRequestAreTolerated() throws Exception {
        byte[] longer = Bytes.concat(MAP_TCP_REQUEST, of(0, 0, 0, 0));
        assertEquals(new NatPmpRequest.Map(Protocol.TCP, 6000, 6001, 7200), NatPmpCodec.decodeRequest(buf(longer)));
    }

    @Test
    void opcodesOf128AndAboveAreResponsesNotRequests() throws Exception {
        assertEquals(new NatPmpRequest.NotARequest(128), NatPmpCodec.decodeRequest(buf(of(0, 128))));
        assertEquals(new NatPmpRequest.NotARequest(130), NatPmpCodec.decodeRequest(buf(MAP_TCP_RESPONSE)));
        assertEquals(new NatPmpRequest.NotARequest(255), NatPmpCodec.decodeRequest(buf(of(0, 255, 1, 2))));
    }

    @Test
    void unsupportedOpcodeIsEchoedWithResponseBitAndResult5() throws Exception {
        NatPmpRequest r = NatPmpCodec.decodeRequest(buf(of(0, 3)));
        assertEquals(new NatPmpRequest.Unsupported(3, of(0, 3)), r);
        // two-octet request: padded so the 16-bit result code fits
        assertArrayEquals(of(0, 131, 0, 5), NatPmpCodec.encodeResponse(new NatPmpResponse.UnsupportedOpcode(of(0, 3))));
        // longer request: returned whole, opcode | 128, result 5 in octets 2-3
        assertArrayEquals(of(0, 0xff, 0, 5, 1, 2, 3, 4),
                NatPmpCodec.encodeResponse(new NatPmpResponse.UnsupportedOpcode(of(0, 0x7f, 9, 9, 1, 2, 3, 4))));
    }

    @Test
    void responsesAreExactly12And16Octets() throws Exception {
        byte[] address = NatPmpCodec.encodeResponse(new NatPmpResponse.ExternalAddress(NatPmpResultCode.SUCCESS, 3600,
                (java.net.Inet4Address) InetAddress.getByName("127.0.1.1")));
        assertArrayEquals(EXTERNAL_ADDRESS_RESPONSE, address);
        byte[] map = NatPmpCodec.encodeResponse(new NatPmpResponse.Map(Protocol.TCP, NatPmpResultCode.SUCCESS, 5, 6000, 6001, 7200));
        assertArrayEquals(MAP_TCP_RESPONSE, map);
        assertEquals(12, address.length);
        assertEquals(16, map.length);
    }

    @Test
    void resultCodeAndUnsignedFieldsRoundTrip() throws Exception {
        NatPmpResponse r = new NatPmpResponse.Map(Protocol.UDP, NatPmpResultCode.OUT_OF_RESOURCES, 4_294_967_295L, 65535, 0, 0);
        byte[] bytes = NatPmpCodec.encodeResponse(r);
        assertArrayEquals(of(0, 129, 0, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0), bytes);
        assertEquals(r, NatPmpCodec.decodeResponse(buf(bytes)));
        assertEquals(new NatPmpResponse.ExternalAddress(NatPmpResultCode.SUCCESS, 3600,
                (java.net.Inet4Address) InetAddress.getByName("127.0.1.1")), NatPmpCodec.decodeResponse(buf(EXTERNAL_ADDRESS_RESPONSE)));
    }

    @Test
    void resultCodesCarryTheirWireValues() {
        assertEquals(5, NatPmpResultCode.UNSUPPORTED_OPCODE.wire());
        assertEquals(NatPmpResultCode.NOT_AUTHORIZED, NatPmpResultCode.of(2));
        assertEquals(null, NatPmpResultCode.of(6));
    }
}
