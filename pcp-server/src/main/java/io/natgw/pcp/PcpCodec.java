package io.natgw.pcp;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * PCP (RFC 6887, version 2) bytes to records and back. Pure: no sockets, no clock, no randomness.
 *
 * <pre>
 * request header (§7.1), 24 octets              response header (§7.2), 24 octets
 *   0 version = 2                                  0 version = 2
 *   1 R = 0 (1 bit), opcode (7 bits)               1 R = 1 (1 bit), opcode (7 bits)
 *   2 reserved (16)                                2 reserved (8)
 *   4 requested lifetime (32)                      3 result code (8)
 *   8 PCP client's IP address (128)                4 lifetime (32)
 *  24 opcode-specific data, then options           8 epoch time (32)
 *                                                 12 reserved (96)
 *                                                 24 opcode-specific data, then options
 * option (§7.3): code (8), reserved (8), option length (16) = data octets without padding, data padded to 4.
 * addresses are 128 bits: IPv4 as ::ffff:a.b.c.d; "no address" as :: or ::ffff:0.0.0.0.
 * </pre>
 */
public final class PcpCodec {

    public static final int VERSION = 2;
    public static final int HEADER_LENGTH = 24;
    public static final int MAX_LENGTH = 1100;
    public static final int RESPONSE_BIT = 0x80;
    static final int FILTER_LENGTH = 20;
    static final int ADDRESS_LENGTH = 16;

    private PcpCodec() {
    }

    /**
     * Decodes a request datagram, validating it in RFC 6887 §8.3's order.
     *
     * @throws PcpFormatException naming the field, with the result code to answer ({@code silent()} for
     *                            datagrams answered with nothing: under 2 octets, or the R bit set)
     */
    public static PcpRequest decodeRequest(ByteBuffer datagram) throws PcpFormatException {
        ByteBuffer in = datagram.slice();
        int length = in.remaining();
        if (length < 2) {
            throw PcpFormatException.silent("version", "datagram of " + length + " octets (expected: 24+ octets)");
        }
        int version = in.get(0) & 0xff;
        if (version != VERSION) {
            throw new PcpFormatException(PcpResultCode.UNSUPP_VERSION, "version", "is " + version + " (expected: 2)");
        }
        if ((in.get(1) & RESPONSE_BIT) != 0) {
            throw PcpFormatException.silent("R bit", "is set: a response, not a request");
        }
        if (length < HEADER_LENGTH) {
            throw malformed("header", "datagram of " + length + " octets (expected: 24+ octets)");
        }
        if (length > MAX_LENGTH) {
            throw malformed("length", length + " octets (expected: at most 1100)");
        }
        if (length % 4 != 0) {
            throw malformed("length", length + " octets (expected: a multiple of 4)");
        }
        int opcodeWire = in.get(1) & 0x7f;
        PcpOpcode opcode = PcpOpcode.of(opcodeWire);
        if (opcode == null) {
            throw new PcpFormatException(PcpResultCode.UNSUPP_OPCODE, "opcode", "is " + opcodeWire + " (expected: 0, 1 or 2)");
        }
        if (length < HEADER_LENGTH + opcode.dataLength()) {
            throw malformed(opcode + " data", "datagram of " + length + " octets (expected: "
                    + (HEADER_LENGTH + opcode.dataLength()) + "+ octets for " + opcode + ")");
        }
        long lifetime = in.getInt(4) & 0xffffffffL;
        InetAddress client = address(in, 8);
        in.position(HEADER_LENGTH);
        PcpOpcodeData data = switch (opcode) {
            case ANNOUNCE -> new PcpOpcodeData.Announce();
            case MAP -> readMap(in);
            case PEER -> readPeer(in);
        };
        List<PcpOption> options = readOptions(in, opcode, true);
        return new PcpRequest(opcode, lifetime, client, data, options);
    }

    /** Encodes a response: header, opcode data, options. */
    public static byte[] encodeResponse(PcpResponse response) {
        ByteBuffer out = ByteBuffer.allocate(MAX_LENGTH);
        out.put((byte) VERSION).put((byte) (RESPONSE_BIT | response.opcode())).put((byte) 0)
                .put((byte) response.result().wire()).putInt((int) response.lifetime()).putInt((int) response.epoch())
                .put(new byte[12]);
        if (response.data() != null) {
            writeData(out, response.data());
        }
        for (PcpOption o : response.options()) {
            writeOption(out, o);
        }
        return slice(out);
    }

    /**
     * The error response for a request that could not be decoded (RFC 6887 §7.2, §8.3): the request's opcode with
     * the R bit, the result and its error lifetime, the epoch, then the request's opcode data and options copied
     * unchanged (as many whole words as fit in 1100 octets), so nonce, protocol and ports are echoed exactly.
     */
    public static byte[] encodeError(ByteBuffer request, PcpResultCode result, long epoch) {
        ByteBuffer in = request.slice();
        int opcode = in.remaining() >= 2 ? in.get(1) & 0x7f : 0;
        int tail = Math.max(0, Math.min(in.remaining(), MAX_LENGTH) - HEADER_LENGTH) & ~3;
        ByteBuffer out = ByteBuffer.allocate(HEADER_LENGTH + tail);
        out.put((byte) VERSION).put((byte) (RESPONSE_BIT | opcode)).put((byte) 0).put((byte) result.wire())
                .putInt((int) result.errorLifetime()).putInt((int) epoch).put(new byte[12]);
        if (tail > 0) {
            out.put(in.position(HEADER_LENGTH).limit(HEADER_LENGTH + tail));
        }
        return out.array();
    }

    /** Client side: encodes a request. */
    public static byte[] encodeRequest(PcpRequest request) {
        ByteBuffer out = ByteBuffer.allocate(4 * MAX_LENGTH);
        out.put((byte) VERSION).put((byte) request.opcode().wire()).putShort((short) 0).putInt((int) request.lifetime());
        out.put(toWire(request.clientAddress()));
        writeData(out, request.data());
        for (PcpOption o : request.options()) {
            writeOption(out, o);
        }
        return slice(out);
    }

    /** Client side: decodes a response; unknown optional options are skipped. */
    public static PcpResponse decodeResponse(ByteBuffer datagram) throws PcpFormatException {
        ByteBuffer in = datagram.slice();
        int length = in.remaining();
        if (length < HEADER_LENGTH || length > MAX_LENGTH || length % 4 != 0) {
            throw PcpFormatException.silent("length", length + " octets (expected: 24-1100, a multiple of 4)");
        }
        if ((in.get(0) & 0xff) != VERSION) {
            throw PcpFormatException.silent("version", "is " + (in.get(0) & 0xff) + " (expected: 2)");
        }
        if ((in.get(1) & RESPONSE_BIT) == 0) {
            throw PcpFormatException.silent("R bit", "is clear: a request, not a response");
        }
        int opcodeWire = in.get(1) & 0x7f;
        PcpResultCode result = PcpResultCode.of(in.get(3) & 0xff);
        if (result == null) {
            throw PcpFormatException.silent("result code", "is " + (in.get(3) & 0xff) + " (expected: 0-13)");
        }
        long lifetime = in.getInt(4) & 0xffffffffL;
        long epoch = in.getInt(8) & 0xffffffffL;
        PcpOpcode opcode = PcpOpcode.of(opcodeWire);
        in.position(HEADER_LENGTH);
        if (opcode == null || length < HEADER_LENGTH + opcode.dataLength()) {
            return new PcpResponse(opcodeWire, result, lifetime, epoch, null, List.of());
        }
        PcpOpcodeData data = switch (opcode) {
            case ANNOUNCE -> new PcpOpcodeData.Announce();
            case MAP -> readMap(in);
            case PEER -> readPeer(in);
        };
        List<PcpOption> options;
        try {
            options = readOptions(in, opcode, false);
        } catch (PcpFormatException e) {
            options = List.of(); // an error response may echo options a server could not parse: keep the header
        }
        return new PcpResponse(opcodeWire, result, lifetime, epoch, data, options);
    }

    private static PcpOpcodeData.MapData readMap(ByteBuffer in) {
        PcpNonce nonce = nonce(in);
        int protocol = in.get() & 0xff;
        in.position(in.position() + 3);
        int internalPort = in.getShort() & 0xffff;
        int externalPort = in.getShort() & 0xffff;
        InetAddress external = address(in, in.position());
        in.position(in.position() + ADDRESS_LENGTH);
        // RFC 6887 §11.1: with protocol 0 (all protocols) the internal port is ignored on reception.
        return new PcpOpcodeData.MapData(nonce, protocol, protocol == 0 ? 0 : internalPort, externalPort, external);
    }

    private static PcpOpcodeData.PeerData readPeer(ByteBuffer in) {
        PcpOpcodeData.MapData m = readMap(in);
        int remotePort = in.getShort() & 0xffff;
        in.position(in.position() + 2);
        InetAddress remote = address(in, in.position());
        in.position(in.position() + ADDRESS_LENGTH);
        return new PcpOpcodeData.PeerData(m.nonce(), m.protocol(), m.internalPort(), m.externalPort(),
                m.externalAddress(), remotePort, remote);
    }

    /** @param request a request's options are validated (§7.3); a response's unknown ones are skipped */
    private static List<PcpOption> readOptions(ByteBuffer in, PcpOpcode opcode, boolean request) throws PcpFormatException {
        List<PcpOption> options = new ArrayList<>();
        while (in.hasRemaining()) {
            int start = in.position();
            if (in.remaining() < 4) {
                throw new PcpFormatException(PcpResultCode.MALFORMED_OPTION, "option header",
                        in.remaining() + " octets at offset " + start + " (expected: 4)");
            }
            int code = in.get() & 0xff;
            in.get();
            int optionLength = in.getShort() & 0xffff;
            int padded = (optionLength + 3) & ~3;
            if (padded > in.remaining()) {
                throw new PcpFormatException(PcpResultCode.MALFORMED_OPTION, "option length",
                        "option " + code + " at offset " + start + " claims " + optionLength + " octets, "
                                + in.remaining() + " remain");
            }
            ByteBuffer body = in.slice(in.position(), optionLength);
            in.position(in.position() + padded);
            boolean mandatory = code < 128;
            if (!validFor(code, opcode)) {
                if (mandatory && request) {
                    throw new PcpFormatException(PcpResultCode.UNSUPP_OPTION, "option " + code,
                            "is not supported with " + opcode + " (expected: THIRD_PARTY, PREFER_FAILURE, FILTER with MAP;"
                                    + " THIRD_PARTY with PEER)");
                }
                continue; // RFC 6887 §7.3: an optional option the server does not process is ignored
            }
            PcpOption option = readOption(code, body);
            boolean once = code != PcpOption.CODE_FILTER;
            if (request && once && options.stream().anyMatch(o -> o.code() == code)) {
                throw new PcpFormatException(PcpResultCode.MALFORMED_OPTION, "option " + code, "appears more than once");
            }
            options.add(option);
        }
        return options;
    }

    private static boolean validFor(int code, PcpOpcode opcode) {
        return switch (code) {
            case PcpOption.CODE_THIRD_PARTY, PcpOption.CODE_DESCRIPTION -> opcode == PcpOpcode.MAP || opcode == PcpOpcode.PEER;
            case PcpOption.CODE_PREFER_FAILURE, PcpOption.CODE_FILTER -> opcode == PcpOpcode.MAP;
            default -> false;
        };
    }

    private static PcpOption readOption(int code, ByteBuffer body) throws PcpFormatException {
        switch (code) {
            case PcpOption.CODE_THIRD_PARTY:
                requireOptionLength("THIRD_PARTY", body, ADDRESS_LENGTH);
                return new PcpOption.ThirdParty(address(body, 0));
            case PcpOption.CODE_PREFER_FAILURE:
                requireOptionLength("PREFER_FAILURE", body, 0);
                return new PcpOption.PreferFailure();
            case PcpOption.CODE_FILTER: {
                requireOptionLength("FILTER", body, FILTER_LENGTH);
                int prefix = body.get(1) & 0xff;
                int port = body.getShort(2) & 0xffff;
                InetAddress remote = address(body, 4);
                // RFC 6887 §13.3: prefix bits of the 128-bit form; IPv4 filters therefore use 96-128; 0 = no filter.
                int min = remote instanceof Inet4Address ? 96 : 1;
                if (prefix != 0 && (prefix < min || prefix > 128)) {
                    throw new PcpFormatException(PcpResultCode.MALFORMED_OPTION, "FILTER prefix length",
                            "is " + prefix + " (expected: 0 or " + min + "-128)");
                }
                return new PcpOption.Filter(prefix, port, remote);
            }
            default: {
                byte[] text = new byte[body.remaining()];
                body.get(text);
                return new PcpOption.Description(new String(text, StandardCharsets.UTF_8));
            }
        }
    }

    private static void requireOptionLength(String name, ByteBuffer body, int expected) throws PcpFormatException {
        if (body.remaining() != expected) {
            throw new PcpFormatException(PcpResultCode.MALFORMED_OPTION, name + " option length",
                    "is " + body.remaining() + " (expected: " + expected + ")");
        }
    }

    private static void writeData(ByteBuffer out, PcpOpcodeData data) {
        if (data instanceof PcpOpcodeData.MapData m) {
            writeMap(out, m.nonce(), m.protocol(), m.internalPort(), m.externalPort(), m.externalAddress());
        } else if (data instanceof PcpOpcodeData.PeerData p) {
            writeMap(out, p.nonce(), p.protocol(), p.internalPort(), p.externalPort(), p.externalAddress());
            out.putShort((short) p.remotePort()).putShort((short) 0).put(toWire(p.remoteAddress()));
        }
    }

    private static void writeMap(ByteBuffer out, PcpNonce nonce, int protocol, int internalPort, int externalPort,
                                 InetAddress external) {
        out.put(nonce.bytes()).put((byte) protocol).put(new byte[3]).putShort((short) internalPort)
                .putShort((short) externalPort).put(toWire(external));
    }

    private static void writeOption(ByteBuffer out, PcpOption option) {
        byte[] data;
        if (option instanceof PcpOption.ThirdParty t) {
            data = toWire(t.internalAddress());
        } else if (option instanceof PcpOption.PreferFailure) {
            data = new byte[0];
        } else if (option instanceof PcpOption.Filter f) {
            data = ByteBuffer.allocate(FILTER_LENGTH).put((byte) 0).put((byte) f.prefixLength())
                    .putShort((short) f.remotePort()).put(toWire(f.remoteAddress())).array();
        } else {
            data = ((PcpOption.Description) option).text().getBytes(StandardCharsets.UTF_8);
        }
        int padded = (data.length + 3) & ~3;
        if (out.remaining() < 4 + padded) {
            return; // never exceed the buffer: an option that does not fit is left off
        }
        out.put((byte) option.code()).put((byte) 0).putShort((short) data.length).put(data).put(new byte[padded - data.length]);
    }

    /** 128-bit wire form: IPv4 as an IPv4-mapped IPv6 address (RFC 6887 §5). */
    public static byte[] toWire(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length == ADDRESS_LENGTH) {
            return a;
        }
        byte[] out = new byte[ADDRESS_LENGTH];
        out[10] = (byte) 0xff;
        out[11] = (byte) 0xff;
        System.arraycopy(a, 0, out, 12, 4);
        return out;
    }

    /** Reads a 128-bit address; an IPv4-mapped one becomes an IPv4 address. */
    static InetAddress address(ByteBuffer in, int offset) {
        byte[] a = new byte[ADDRESS_LENGTH];
        in.get(offset, a);
        try {
            return InetAddress.getByAddress(a); // the JDK turns ::ffff:a.b.c.d into an Inet4Address
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** RFC 6887 §11.1: both {@code ::} and {@code ::ffff:0.0.0.0} mean "no preference". */
    public static boolean unspecified(InetAddress address) {
        return address.isAnyLocalAddress();
    }

    private static PcpNonce nonce(ByteBuffer in) {
        byte[] n = new byte[PcpNonce.LENGTH];
        in.get(n);
        return PcpNonce.of(n);
    }

    private static byte[] slice(ByteBuffer out) {
        byte[] bytes = new byte[out.position()];
        out.flip().get(bytes);
        return bytes;
    }

    private static PcpFormatException malformed(String field, String problem) {
        return new PcpFormatException(PcpResultCode.MALFORMED_REQUEST, field, problem);
    }
}
