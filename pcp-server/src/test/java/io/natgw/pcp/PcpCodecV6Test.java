package io.natgw.pcp;

import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.util.List;

import static io.natgw.pcp.Bytes.buf;
import static io.natgw.pcp.Bytes.concat;
import static io.natgw.pcp.Bytes.of;
import static io.natgw.pcp.PcpCodecTest.ip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * RFC 6887 layouts with IPv6 addresses (§5: every address field is 128 bits; IPv6 as itself, IPv4 as ::ffff:a.b.c.d):
 * requests from an IPv6 host of the namespace LAN (fd00:77::/64), IPv6 options, and pinhole responses whose assigned
 * external address is the host's own.
 */
class PcpCodecV6Test {

    /** §7.1 header of a MAP from fd00:77::10 for 7200 s. */
    static final byte[] MAP6_HEADER = of(
            2, 1, 0, 0, // version 2, R=0 opcode 1 (MAP), reserved
            0, 0, 0x1c, 0x20, // requested lifetime 7200
            0xfd, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10); // client fd00:77::10

    /** §11.1 MAP data: nonce 0102..0c, TCP, internal 8080, suggested 8080 on :: (IPv6, no preference). */
    static final byte[] MAP6_DATA = of(
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, // mapping nonce
            6, 0, 0, 0, // protocol 6 (TCP), reserved
            0x1f, 0x90, 0x1f, 0x90, // internal port 8080, suggested external port 8080
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0); // suggested external ::

    static final byte[] MAP6_REQUEST = concat(MAP6_HEADER, MAP6_DATA);

    /** §13.1 THIRD_PARTY: code 1, length 16, fd00:77::11. */
    static final byte[] THIRD_PARTY6 = of(1, 0, 0, 16, 0xfd, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11);

    /** §13.3 FILTER: code 3, length 20, prefix 64, remote port 0 (all), 2001:db8:113::. */
    static final byte[] FILTER6 = of(3, 0, 0, 20, 0, 64, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /** §12.1 PEER from fd00:77::10: UDP 9000 to [2001:db8:113::2]:443, suggested 9000, lifetime 600. */
    static final byte[] PEER6_REQUEST = concat(
            of(2, 2, 0, 0, 0, 0, 0x02, 0x58, 0xfd, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10),
            of(12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, // nonce
                    17, 0, 0, 0, // UDP
                    0x23, 0x28, 0x23, 0x28, // internal 9000, suggested external 9000
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // suggested external ::
                    0x01, 0xbb, 0, 0, // remote peer port 443, reserved
                    0x20, 0x01, 0x0d, 0xb8, 0x01, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2)); // remote peer 2001:db8:113::2

    /** §14.1 ANNOUNCE from fd00:77::10. */
    static final byte[] ANNOUNCE6 = of(2, 0, 0, 0, 0, 0, 0, 0, 0xfd, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10);

    /**
     * §11.1 MAP success for a pinhole (RFC 6887 as a firewall): lifetime 7200, epoch 42, assigned external
     * [fd00:77::10]:8080, the internal address and port themselves.
     */
    static final byte[] PINHOLE_RESPONSE = concat(
            of(2, 0x81, 0, 0, // version, R=1 opcode 1, reserved, result 0 (SUCCESS)
                    0, 0, 0x1c, 0x20, // lifetime 7200
                    0, 0, 0, 42, // epoch time
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), // reserved 96 bits
            of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 6, 0, 0, 0, 0x1f, 0x90, 0x1f, 0x90,
                    0xfd, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10));

    static final PcpNonce NONCE = new PcpNonce("0102030405060708090a0b0c");

    @Test
    void decodesAMapFromAnIpv6Host() throws Exception {
        PcpRequest r = PcpCodec.decodeRequest(buf(MAP6_REQUEST));
        assertEquals(new PcpRequest(PcpOpcode.MAP, 7200, ip("fd00:77::10"),
                new PcpOpcodeData.MapData(NONCE, 6, 8080, 8080, ip("::")), List.of()), r);
        assertInstanceOf(Inet6Address.class, r.clientAddress());
    }

    @Test
    void decodesIpv6OptionsAndEncodesThemBack() throws Exception {
        byte[] datagram = concat(MAP6_REQUEST, THIRD_PARTY6, FILTER6, PcpCodecTest.DESCRIPTION);
        PcpRequest r = PcpCodec.decodeRequest(buf(datagram));
        assertEquals(List.of(new PcpOption.ThirdParty(ip("fd00:77::11")), new PcpOption.Filter(64, 0, ip("2001:db8:113::")),
                new PcpOption.Description("hello")), r.options());
        assertArrayEquals(datagram, PcpCodec.encodeRequest(r));
    }

    @Test
    void decodesAPeerWithAnIpv6RemoteAndEncodesItBack() throws Exception {
        PcpRequest r = PcpCodec.decodeRequest(buf(PEER6_REQUEST));
        assertEquals(new PcpOpcodeData.PeerData(new PcpNonce("0c0b0a090807060504030201"), 17, 9000, 9000, ip("::"),
                443, ip("2001:db8:113::2")), r.data());
        assertArrayEquals(PEER6_REQUEST, PcpCodec.encodeRequest(r));
        assertEquals(new PcpRequest(PcpOpcode.ANNOUNCE, 0, ip("fd00:77::10"), new PcpOpcodeData.Announce(), List.of()),
                PcpCodec.decodeRequest(buf(ANNOUNCE6)));
    }

    @Test
    void encodesAPinholeResponseWithTheInternalAddressAsExternal() throws Exception {
        PcpResponse r = new PcpResponse(1, PcpResultCode.SUCCESS, 7200, 42,
                new PcpOpcodeData.MapData(NONCE, 6, 8080, 8080, ip("fd00:77::10")), List.of());
        assertArrayEquals(PINHOLE_RESPONSE, PcpCodec.encodeResponse(r));
        assertEquals(r, PcpCodec.decodeResponse(buf(PINHOLE_RESPONSE)));
    }

    @Test
    void anIpv4MappedClientAddressDecodesAsIpv4() throws Exception {
        // ::ffff:192.168.77.10 in the client address field: the server compares it with an IPv6 source and
        // answers ADDRESS_MISMATCH (PcpIpv6Test), so the decoder must not leave it an IPv6 address
        byte[] d = MAP6_REQUEST.clone();
        byte[] mapped = of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 77, 10);
        System.arraycopy(mapped, 0, d, 8, 16);
        PcpRequest r = PcpCodec.decodeRequest(buf(d));
        assertEquals(ip("192.168.77.10"), r.clientAddress());
        assertInstanceOf(Inet4Address.class, r.clientAddress());
    }

    @Test
    void anIpv4SuggestedExternalAddressStaysIpv4InAnIpv6Request() throws Exception {
        byte[] d = MAP6_REQUEST.clone();
        byte[] suggested = of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 1);
        System.arraycopy(suggested, 0, d, 24 + 20, 16);
        assertEquals(ip("203.0.113.1"), ((PcpOpcodeData.MapData) PcpCodec.decodeRequest(buf(d)).data()).externalAddress());
    }

    @Test
    void ipv6FilterPrefixesRunFromOneTo128() throws Exception {
        for (int prefix : new int[] {0, 1, 64, 95, 128}) {
            byte[] f = FILTER6.clone();
            f[5] = (byte) prefix;
            assertEquals(prefix, PcpCodec.decodeRequest(buf(concat(MAP6_REQUEST, f))).option(PcpOption.Filter.class)
                    .orElseThrow().prefixLength(), "prefix " + prefix);
        }
        for (int prefix : new int[] {129, 255}) {
            byte[] f = FILTER6.clone();
            f[5] = (byte) prefix;
            PcpFormatException e = assertThrows(PcpFormatException.class,
                    () -> PcpCodec.decodeRequest(buf(concat(MAP6_REQUEST, f))));
            assertEquals(PcpResultCode.MALFORMED_OPTION, e.result(), "prefix " + prefix);
            assertEquals("FILTER prefix length", e.field());
        }
    }

    @Test
    void anErrorForAnIpv6RequestEchoesItsAddressesExactly() {
        byte[] request = concat(MAP6_REQUEST, THIRD_PARTY6);
        byte[] error = PcpCodec.encodeError(buf(request), PcpResultCode.NOT_AUTHORIZED, 7);
        assertArrayEquals(concat(
                of(2, 0x81, 0, 2, // version, R + MAP, reserved, NOT_AUTHORIZED
                        0, 0, 0x07, 0x08, // lifetime 1800: long-lived error
                        0, 0, 0, 7, // epoch
                        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
                MAP6_DATA, THIRD_PARTY6), error);
    }
}
