package io.natgw.pcp;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

import static io.natgw.pcp.Bytes.buf;
import static io.natgw.pcp.Bytes.concat;
import static io.natgw.pcp.Bytes.cut;
import static io.natgw.pcp.Bytes.of;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RFC 6887 §7, §11-§14 and RFC 7220 layouts as literal octets, with every length and field boundary. */
class PcpCodecTest {

    /** §7.1 common header of a MAP request from 127.0.0.1 for 7200 s. */
    static final byte[] MAP_HEADER = of(
            2, 1, 0, 0, // version 2, R=0 opcode 1 (MAP), reserved
            0, 0, 0x1c, 0x20, // requested lifetime 7200
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1); // client ::ffff:127.0.0.1

    /** §11.1 MAP data: nonce 0102..0c, TCP, internal 6000, suggested 6001 on ::ffff:0.0.0.0. */
    static final byte[] MAP_DATA = of(
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, // mapping nonce
            6, 0, 0, 0, // protocol 6 (TCP), reserved
            0x17, 0x70, 0x17, 0x71, // internal port 6000, suggested external port 6001
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0); // suggested external ::ffff:0.0.0.0

    static final byte[] MAP_REQUEST = concat(MAP_HEADER, MAP_DATA);

    /** §13.2 PREFER_FAILURE: code 2, no data. */
    static final byte[] PREFER_FAILURE = of(2, 0, 0, 0);

    /** §13.1 THIRD_PARTY: code 1, length 16, ::ffff:127.0.0.9. */
    static final byte[] THIRD_PARTY = of(1, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 9);

    /** §13.3 FILTER: code 3, length 20, prefix 120 (an IPv4 /24), remote port 8080, ::ffff:198.51.100.0. */
    static final byte[] FILTER = of(3, 0, 0, 20, 0, 120, 0x1f, 0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 0);

    /** RFC 7220 DESCRIPTION: code 128, length 5, "hello", 3 octets of padding. */
    static final byte[] DESCRIPTION = of(128, 0, 0, 5, 'h', 'e', 'l', 'l', 'o', 0, 0, 0);

    /** An optional option this server does not know (code >= 128): skipped. */
    static final byte[] UNKNOWN_OPTIONAL = of(0xc0, 0, 0, 2, 0xaa, 0xbb, 0, 0);

    /** A mandatory option this server does not know (code < 128). */
    static final byte[] UNKNOWN_MANDATORY = of(0x7f, 0, 0, 0);

    /** §14.1 ANNOUNCE request: header only. */
    static final byte[] ANNOUNCE = of(2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1);

    /** §12.1 PEER request, TCP 6000 to 198.51.100.7:443, suggested 6000, lifetime 600. */
    static final byte[] PEER_REQUEST = concat(
            of(2, 2, 0, 0, 0, 0, 0x02, 0x58, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1),
            of(12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, // nonce
                    6, 0, 0, 0, // TCP
                    0x17, 0x70, 0x17, 0x70, // internal 6000, suggested external 6000
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // suggested external :: (no preference)
                    0x01, 0xbb, 0, 0, // remote peer port 443, reserved
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7)); // remote peer

    /** §11.1 MAP success response: lifetime 7200, epoch 42, assigned 6001 on ::ffff:127.0.1.1. */
    static final byte[] MAP_RESPONSE = concat(
            of(2, 0x81, 0, 0, // version, R=1 opcode 1, reserved, result 0
                    0, 0, 0x1c, 0x20, // lifetime
                    0, 0, 0, 42, // epoch time
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), // reserved 96 bits
            of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 6, 0, 0, 0, 0x17, 0x70, 0x17, 0x71,
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 1, 1));

    static final PcpNonce NONCE = new PcpNonce("0102030405060708090a0b0c");

    @Test
    void decodesMapRequest() throws Exception {
        PcpRequest r = PcpCodec.decodeRequest(buf(MAP_REQUEST));
        assertEquals(new PcpRequest(PcpOpcode.MAP, 7200, ip("127.0.0.1"),
                new PcpOpcodeData.MapData(NONCE, 6, 6000, 6001, ip("0.0.0.0")), List.of()), r);
        assertTrue(PcpCodec.unspecified(((PcpOpcodeData.MapData) r.data()).externalAddress()));
    }

    @Test
    void bothUnspecifiedFormsMeanNoPreference() throws Exception {
        byte[] v6 = MAP_REQUEST.clone();
        v6[24 + 36 - 6] = 0; // ::ffff:0.0.0.0 -> ::
        v6[24 + 36 - 5] = 0;
        PcpOpcodeData.MapData d = (PcpOpcodeData.MapData) PcpCodec.decodeRequest(buf(v6)).data();
        assertTrue(PcpCodec.unspecified(d.externalAddress()));
        assertEquals(ip("::"), d.externalAddress());
    }

    @Test
    void decodesEveryOptionAndSkipsUnknownOptionalOnes() throws Exception {
        byte[] datagram = concat(MAP_REQUEST, PREFER_FAILURE, THIRD_PARTY, FILTER, UNKNOWN_OPTIONAL, DESCRIPTION);
        PcpRequest r = PcpCodec.decodeRequest(buf(datagram));
        assertEquals(List.of(new PcpOption.PreferFailure(), new PcpOption.ThirdParty(ip("127.0.0.9")),
                new PcpOption.Filter(120, 8080, ip("198.51.100.0")), new PcpOption.Description("hello")), r.options());
    }

    @Test
    void encodesRequestsAsTheyDecode() throws Exception {
        byte[] datagram = concat(MAP_REQUEST, PREFER_FAILURE, THIRD_PARTY, FILTER, DESCRIPTION);
        assertArrayEquals(datagram, PcpCodec.encodeRequest(PcpCodec.decodeRequest(buf(datagram))));
        assertArrayEquals(PEER_REQUEST, PcpCodec.encodeRequest(PcpCodec.decodeRequest(buf(PEER_REQUEST))));
        assertArrayEquals(ANNOUNCE, PcpCodec.encodeRequest(PcpCodec.decodeRequest(buf(ANNOUNCE))));
    }

    @Test
    void decodesPeerAndAnnounce() throws Exception {
        PcpRequest peer = PcpCodec.decodeRequest(buf(PEER_REQUEST));
        assertEquals(new PcpOpcodeData.PeerData(new PcpNonce("0c0b0a090807060504030201"), 6, 6000, 6000, ip("::"),
                443, ip("198.51.100.7")), peer.data());
        assertEquals(600, peer.lifetime());
        assertEquals(new PcpRequest(PcpOpcode.ANNOUNCE, 0, ip("127.0.0.1"), new PcpOpcodeData.Announce(), List.of()),
                PcpCodec.decodeRequest(buf(ANNOUNCE)));
    }

    @Test
    void encodesMapResponse() throws Exception {
        PcpResponse r = new PcpResponse(1, PcpResultCode.SUCCESS, 7200, 42,
                new PcpOpcodeData.MapData(NONCE, 6, 6000, 6001, ip("127.0.1.1")), List.of());
        assertArrayEquals(MAP_RESPONSE, PcpCodec.encodeResponse(r));
        assertEquals(r, PcpCodec.decodeResponse(buf(MAP_RESPONSE)));
    }

    @Test
    void descriptionIsPaddedToAWordAndCarriesUtf8() throws Exception {
        PcpResponse r = new PcpResponse(1, PcpResultCode.SUCCESS, 60, 1,
                new PcpOpcodeData.MapData(NONCE, 17, 1, 1, ip("127.0.1.1")), List.of(new PcpOption.Description("Straße")));
        byte[] bytes = PcpCodec.encodeResponse(r);
        assertEquals(60 + 4 + 8, bytes.length); // "Straße" is 7 octets in UTF-8, padded to 8
        assertArrayEquals(of(128, 0, 0, 7), Arrays.copyOfRange(bytes, 60, 64));
        assertEquals(r, PcpCodec.decodeResponse(buf(bytes)));
    }

    // ---- lengths (RFC 6887 §8.3) ----

    @Test
    void underTwoOctetsIsDroppedSilently() {
        assertTrue(failure(of(2)).silent());
        assertTrue(failure(new byte[0]).silent());
    }

    @Test
    void underTwentyFourOctetsIsMalformed() {
        for (int length = 2; length < 24; length++) {
            PcpFormatException e = failure(cut(ANNOUNCE, length));
            assertEquals(PcpResultCode.MALFORMED_REQUEST, e.result(), "length " + length);
            assertEquals("header", e.field());
        }
    }

    @Test
    void exactlyTwentyFourOctetsIsAnAnnounce() throws Exception {
        assertEquals(PcpOpcode.ANNOUNCE, PcpCodec.decodeRequest(buf(cut(ANNOUNCE, 24))).opcode());
    }

    @Test
    void notAMultipleOfFourIsMalformed() {
        for (int extra = 1; extra < 4; extra++) {
            PcpFormatException e = failure(concat(MAP_REQUEST, new byte[extra]));
            assertEquals(PcpResultCode.MALFORMED_REQUEST, e.result());
            assertEquals("length", e.field());
        }
    }

    @Test
    void elevenHundredOctetsIsTheLimit() throws Exception {
        // MAP (60) + an optional option of 1036 data octets = 1100 exactly
        byte[] filler = new byte[4 + 1036];
        filler[0] = (byte) 0xc1;
        filler[2] = (byte) (1036 >> 8);
        filler[3] = (byte) (1036 & 0xff);
        byte[] max = concat(MAP_REQUEST, filler);
        assertEquals(1100, max.length);
        assertEquals(List.of(), PcpCodec.decodeRequest(buf(max)).options());

        byte[] over = concat(max, new byte[4]);
        PcpFormatException e = failure(over);
        assertEquals(PcpResultCode.MALFORMED_REQUEST, e.result());
        assertEquals("length", e.field());
    }

    @Test
    void tooShortForTheOpcodeIsMalformed() {
        for (int length = 24; length < 60; length += 4) {
            PcpFormatException e = failure(cut(MAP_REQUEST, length));
            assertEquals(PcpResultCode.MALFORMED_REQUEST, e.result(), "MAP of " + length);
            assertEquals("MAP data", e.field());
        }
        PcpFormatException e = failure(cut(PEER_REQUEST, 76));
        assertEquals(PcpResultCode.MALFORMED_REQUEST, e.result());
        assertEquals("PEER data", e.field());
    }

    // ---- header fields ----

    @Test
    void otherVersionsAreUnsupported() {
        for (int version : new int[] {1, 3, 255}) {
            byte[] d = MAP_REQUEST.clone();
            d[0] = (byte) version;
            assertEquals(PcpResultCode.UNSUPP_VERSION, failure(d).result());
        }
    }

    @Test
    void theRBitMeansAResponseAndIsIgnored() {
        assertTrue(failure(MAP_RESPONSE).silent());
    }

    @Test
    void unknownOpcodeIsUnsupported() {
        byte[] d = ANNOUNCE.clone();
        d[1] = 3;
        PcpFormatException e = failure(d);
        assertEquals(PcpResultCode.UNSUPP_OPCODE, e.result());
        assertEquals("opcode", e.field());
    }

    @Test
    void protocolZeroMakesTheInternalPortIgnored() throws Exception {
        byte[] d = MAP_REQUEST.clone();
        d[24 + 12] = 0; // protocol 0 = all
        assertEquals(0, ((PcpOpcodeData.MapData) PcpCodec.decodeRequest(buf(d)).data()).internalPort());
    }

    // ---- options (RFC 6887 §7.3) ----

    @Test
    void unknownMandatoryOptionIsUnsupported() {
        PcpFormatException e = failure(concat(MAP_REQUEST, UNKNOWN_MANDATORY));
        assertEquals(PcpResultCode.UNSUPP_OPTION, e.result());
        assertEquals("option 127", e.field());
    }

    @Test
    void mandatoryOptionNotValidForTheOpcodeIsUnsupported() {
        assertEquals(PcpResultCode.UNSUPP_OPTION, failure(concat(PEER_REQUEST, PREFER_FAILURE)).result());
        assertEquals(PcpResultCode.UNSUPP_OPTION, failure(concat(PEER_REQUEST, FILTER)).result());
        assertEquals(PcpResultCode.UNSUPP_OPTION, failure(concat(ANNOUNCE, THIRD_PARTY)).result());
    }

    @Test
    void optionOverrunningTheDatagramIsMalformed() {
        PcpFormatException e = failure(concat(MAP_REQUEST, cut(THIRD_PARTY, 16)));
        assertEquals(PcpResultCode.MALFORMED_OPTION, e.result());
        assertEquals("option length", e.field());
    }

    @Test
    void wrongOptionLengthsAreMalformed() {
        assertEquals(PcpResultCode.MALFORMED_OPTION, failure(concat(MAP_REQUEST, of(1, 0, 0, 4, 127, 0, 0, 1))).result());
        assertEquals(PcpResultCode.MALFORMED_OPTION, failure(concat(MAP_REQUEST, of(2, 0, 0, 4, 0, 0, 0, 0))).result());
        assertEquals(PcpResultCode.MALFORMED_OPTION, failure(concat(MAP_REQUEST, cut(FILTER, 20))).result());
    }

    @Test
    void repeatedSingleOptionsAreMalformed() {
        assertEquals(PcpResultCode.MALFORMED_OPTION, failure(concat(MAP_REQUEST, PREFER_FAILURE, PREFER_FAILURE)).result());
        assertEquals(PcpResultCode.MALFORMED_OPTION, failure(concat(MAP_REQUEST, THIRD_PARTY, THIRD_PARTY)).result());
    }

    @Test
    void filterPrefixBoundaries() throws Exception {
        for (int prefix : new int[] {0, 96, 128}) {
            byte[] f = FILTER.clone();
            f[5] = (byte) prefix;
            assertEquals(prefix, PcpCodec.decodeRequest(buf(concat(MAP_REQUEST, f))).option(PcpOption.Filter.class)
                    .orElseThrow().prefixLength());
        }
        for (int prefix : new int[] {1, 95, 129, 255}) {
            byte[] f = FILTER.clone();
            f[5] = (byte) prefix;
            PcpFormatException e = failure(concat(MAP_REQUEST, f));
            assertEquals(PcpResultCode.MALFORMED_OPTION, e.result(), "prefix " + prefix);
            assertEquals("FILTER prefix length", e.field());
        }
    }

    // ---- error responses ----

    @Test
    void errorResponseEchoesOpcodeDataAndOptionsWithTheErrorsLifetime() {
        byte[] request = concat(MAP_REQUEST, UNKNOWN_MANDATORY);
        byte[] error = PcpCodec.encodeError(buf(request), PcpResultCode.UNSUPP_OPTION, 42);
        assertArrayEquals(concat(
                of(2, 0x81, 0, 5, // version, R + MAP, reserved, UNSUPP_OPTION
                        0, 0, 0x07, 0x08, // lifetime 1800: long-lived error
                        0, 0, 0, 42, // epoch
                        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
                MAP_DATA, UNKNOWN_MANDATORY), error);
    }

    @Test
    void errorResponseForAShortOrLongDatagramStaysAValidLength() {
        assertEquals(24, PcpCodec.encodeError(buf(cut(ANNOUNCE, 10)), PcpResultCode.MALFORMED_REQUEST, 1).length);
        assertEquals(1100, PcpCodec.encodeError(buf(new byte[1500]), PcpResultCode.MALFORMED_REQUEST, 1).length);
        assertEquals(60, PcpCodec.encodeError(buf(concat(MAP_REQUEST, of(0, 0))), PcpResultCode.MALFORMED_REQUEST, 1).length);
    }

    @Test
    void shortLivedErrorsLast30Seconds() {
        assertEquals(30, PcpResultCode.CANNOT_PROVIDE_EXTERNAL.errorLifetime());
        assertEquals(30, PcpResultCode.NO_RESOURCES.errorLifetime());
        assertEquals(30, PcpResultCode.USER_EX_QUOTA.errorLifetime());
        assertEquals(30, PcpResultCode.NETWORK_FAILURE.errorLifetime());
        assertEquals(1800, PcpResultCode.NOT_AUTHORIZED.errorLifetime());
        assertEquals(1800, PcpResultCode.ADDRESS_MISMATCH.errorLifetime());
    }

    @Test
    void wireValuesLiveOnTheConstants() {
        assertEquals(13, PcpResultCode.EXCESSIVE_REMOTE_PEERS.wire());
        assertEquals(PcpResultCode.ADDRESS_MISMATCH, PcpResultCode.of(12));
        assertEquals(null, PcpResultCode.of(14));
        assertEquals(PcpOpcode.PEER, PcpOpcode.of(2));
        assertEquals(null, PcpOpcode.of(3));
    }

    private static PcpFormatException failure(byte[] datagram) {
        return assertThrows(PcpFormatException.class, () -> PcpCodec.decodeRequest(ByteBuffer.wrap(datagram)));
    }

    static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
