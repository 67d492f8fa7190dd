package io.natgw.pcp;

import io.natgw.conf.Protocol;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * NAT-PMP (RFC 6886) bytes to records and back. Pure: no sockets, no clock.
 *
 * <pre>
 * external address request (§3.2), 2 octets      external address response (§3.2), 12 octets
 *   0 version = 0                                   0 version = 0
 *   1 opcode = 0                                    1 opcode = 128
 *                                                   2 result code (16)
 *                                                   4 seconds since start of epoch (32)
 *                                                   8 external IPv4 address (32)
 *
 * mapping request (§3.3), 12 octets              mapping response (§3.3), 16 octets
 *   0 version = 0                                   0 version = 0
 *   1 opcode: 1 = UDP, 2 = TCP                      1 opcode: 128 + request opcode
 *   2 reserved (16) = 0                             2 result code (16)
 *   4 internal port (16)                            4 seconds since start of epoch (32)
 *   6 suggested external port (16)                  8 internal port (16)
 *   8 requested lifetime in seconds (32)           10 mapped external port (16)
 *                                                  12 lifetime in seconds (32)
 * </pre>
 */
public final class NatPmpCodec {

    public static final int VERSION = 0;
    public static final int OP_EXTERNAL_ADDRESS = 0;
    public static final int OP_MAP_UDP = 1;
    public static final int OP_MAP_TCP = 2;
    public static final int RESPONSE_BIT = 128;
    public static final int EXTERNAL_ADDRESS_RESPONSE_LENGTH = 12;
    public static final int MAP_LENGTH = 12;
    public static final int MAP_RESPONSE_LENGTH = 16;
    /** Echoes of unsupported requests are cut to this many octets: the largest PCP message. */
    static final int MAX_ECHO = 1100;

    private NatPmpCodec() {
    }

    /** Decodes a request; a datagram too short for its opcode is dropped silently (RFC 6886 has no error for it). */
    public static NatPmpRequest decodeRequest(ByteBuffer datagram) throws PcpFormatException {
        ByteBuffer in = datagram.duplicate();
        int length = in.remaining();
        if (length < 2) {
            throw PcpFormatException.silent("opcode", "datagram of " + length + " octets ends before it (expected: 2+ octets)");
        }
        int version = in.get(in.position()) & 0xff;
        if (version != VERSION) {
            throw PcpFormatException.silent("version", "is " + version + " (expected: 0)");
        }
        int opcode = in.get(in.position() + 1) & 0xff;
        if (opcode >= RESPONSE_BIT) {
            return new NatPmpRequest.NotARequest(opcode);
        }
        switch (opcode) {
            case OP_EXTERNAL_ADDRESS:
                return new NatPmpRequest.ExternalAddress();
            case OP_MAP_UDP:
            case OP_MAP_TCP: {
                if (length < MAP_LENGTH) {
                    throw PcpFormatException.silent("requested lifetime",
                            "mapping request of " + length + " octets ends before it (expected: 12 octets)");
                }
                int p = in.position();
                Protocol protocol = opcode == OP_MAP_UDP ? Protocol.UDP : Protocol.TCP;
                return new NatPmpRequest.Map(protocol, in.getShort(p + 4) & 0xffff, in.getShort(p + 6) & 0xffff,
                        in.getInt(p + 8) & 0xffffffffL);
            }
            default: {
                byte[] raw = new byte[Math.min(length, MAX_ECHO)];
                in.get(raw);
                return new NatPmpRequest.Unsupported(opcode, raw);
            }
        }
    }

    /** Encodes a response: exactly 12 or 16 octets, or the echoed request for an unsupported opcode. */
    public static byte[] encodeResponse(NatPmpResponse response) {
        if (response instanceof NatPmpResponse.ExternalAddress r) {
            ByteBuffer out = ByteBuffer.allocate(EXTERNAL_ADDRESS_RESPONSE_LENGTH);
            out.put((byte) VERSION).put((byte) (RESPONSE_BIT + OP_EXTERNAL_ADDRESS)).putShort((short) r.result().wire())
                    .putInt((int) r.epoch()).put(r.address().getAddress());
            return out.array();
        }
        if (response instanceof NatPmpResponse.Map r) {
            ByteBuffer out = ByteBuffer.allocate(MAP_RESPONSE_LENGTH);
            out.put((byte) VERSION).put((byte) (RESPONSE_BIT + opcode(r.protocol()))).putShort((short) r.result().wire())
                    .putInt((int) r.epoch()).putShort((short) r.internalPort()).putShort((short) r.externalPort())
                    .putInt((int) r.lifetime());
            return out.array();
        }
        byte[] request = ((NatPmpResponse.UnsupportedOpcode) response).request();
        // RFC 6886 §3.5: the whole request comes back, top bit of the opcode set, result code 5 in octets 2-3.
        byte[] out = Arrays.copyOf(request, Math.max(4, Math.min(request.length, MAX_ECHO)));
        out[1] = (byte) (out[1] | RESPONSE_BIT);
        out[2] = 0;
        out[3] = (byte) NatPmpResultCode.UNSUPPORTED_OPCODE.wire();
        return out;
    }

    /** Client side: the request's bytes. */
    public static byte[] encodeRequest(NatPmpRequest request) {
        if (request instanceof NatPmpRequest.ExternalAddress) {
            return new byte[] {VERSION, OP_EXTERNAL_ADDRESS};
        }
        if (request instanceof NatPmpRequest.Map m) {
            ByteBuffer out = ByteBuffer.allocate(MAP_LENGTH);
            out.put((byte) VERSION).put((byte) opcode(m.protocol())).putShort((short) 0)
                    .putShort((short) m.internalPort()).putShort((short) m.suggestedExternalPort()).putInt((int) m.lifetime());
            return out.array();
        }
        if (request instanceof NatPmpRequest.Unsupported u) {
            return u.raw();
        }
        return new byte[] {VERSION, (byte) ((NatPmpRequest.NotARequest) request).opcode()};
    }

    /** Client side: decodes a 12- or 16-octet response (or an echo of an unsupported request). */
    public static NatPmpResponse decodeResponse(ByteBuffer datagram) throws PcpFormatException {
        ByteBuffer in = datagram.duplicate();
        int p = in.position();
        int length = in.remaining();
        if (length < 4) {
            throw PcpFormatException.silent("result code", length + " octets end before it (expected: 4+ octets)");
        }
        if ((in.get(p) & 0xff) != VERSION) {
            throw PcpFormatException.silent("version", "is " + (in.get(p) & 0xff) + " (expected: 0)");
        }
        int opcode = in.get(p + 1) & 0xff;
        if (opcode < RESPONSE_BIT) {
            throw PcpFormatException.silent("opcode", "is " + opcode + " (expected: 128+, a response)");
        }
        int resultWire = in.getShort(p + 2) & 0xffff;
        NatPmpResultCode result = NatPmpResultCode.of(resultWire);
        if (result == null) {
            throw PcpFormatException.silent("result code", "is " + resultWire + " (expected: 0-5)");
        }
        if (result == NatPmpResultCode.UNSUPPORTED_OPCODE) {
            byte[] raw = new byte[length];
            in.get(raw);
            raw[1] = (byte) (raw[1] & ~RESPONSE_BIT);
            raw[3] = 0;
            return new NatPmpResponse.UnsupportedOpcode(raw);
        }
        int op = opcode - RESPONSE_BIT;
        if (op == OP_EXTERNAL_ADDRESS) {
            requireLength(length, EXTERNAL_ADDRESS_RESPONSE_LENGTH, "external IPv4 address");
            byte[] a = new byte[4];
            in.position(p + 8);
            in.get(a);
            return new NatPmpResponse.ExternalAddress(result, in.getInt(p + 4) & 0xffffffffL, ipv4(a));
        }
        if (op == OP_MAP_UDP || op == OP_MAP_TCP) {
            requireLength(length, MAP_RESPONSE_LENGTH, "lifetime");
            return new NatPmpResponse.Map(op == OP_MAP_UDP ? Protocol.UDP : Protocol.TCP, result,
                    in.getInt(p + 4) & 0xffffffffL, in.getShort(p + 8) & 0xffff, in.getShort(p + 10) & 0xffff,
                    in.getInt(p + 12) & 0xffffffffL);
        }
        throw PcpFormatException.silent("opcode", "is " + opcode + " (expected: 128, 129 or 130)");
    }

    static int opcode(Protocol protocol) {
        return protocol == Protocol.UDP ? OP_MAP_UDP : OP_MAP_TCP;
    }

    private static void requireLength(int length, int expected, String field) throws PcpFormatException {
        if (length != expected) {
            throw PcpFormatException.silent(field, "response of " + length + " octets (expected: exactly " + expected + ")");
        }
    }

    static Inet4Address ipv4(byte[] fourOctets) {
        try {
            return (Inet4Address) InetAddress.getByAddress(fourOctets);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
