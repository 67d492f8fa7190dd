package io.natgw.it.pcp;

import io.natgw.conf.Protocol;
import io.natgw.pcp.NatPmpCodec;
import io.natgw.pcp.NatPmpRequest;
import io.natgw.pcp.NatPmpResponse;
import io.natgw.pcp.PcpCodec;
import io.natgw.pcp.PcpFormatException;
import io.natgw.pcp.PcpNonce;
import io.natgw.pcp.PcpOpcode;
import io.natgw.pcp.PcpOpcodeData;
import io.natgw.pcp.PcpOption;
import io.natgw.pcp.PcpRequest;
import io.natgw.pcp.PcpResponse;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * A NAT-PMP/PCP client socket bound to a chosen loopback address (a second owner on loopback), speaking
 * through the server's own codecs. Retries like RFC 6886 §3.1 clients, a few times.
 */
final class PortMapClient implements AutoCloseable {

    private final DatagramSocket socket;
    private final InetSocketAddress server;

    PortMapClient(InetAddress bindTo, InetSocketAddress server) throws IOException {
        this.socket = new DatagramSocket(new InetSocketAddress(bindTo, 0));
        this.server = server;
    }

    InetAddress address() {
        return socket.getLocalAddress();
    }

    NatPmpResponse natPmp(NatPmpRequest request) throws IOException, PcpFormatException {
        return NatPmpCodec.decodeResponse(ByteBuffer.wrap(exchange(NatPmpCodec.encodeRequest(request))));
    }

    NatPmpResponse.Map natPmpMap(Protocol protocol, int internal, int suggested, long lifetime) throws IOException, PcpFormatException {
        return (NatPmpResponse.Map) natPmp(new NatPmpRequest.Map(protocol, internal, suggested, lifetime));
    }

    PcpResponse pcpMap(PcpNonce nonce, Protocol protocol, int internal, int suggested, long lifetime, PcpOption... options)
            throws IOException, PcpFormatException {
        PcpRequest r = new PcpRequest(PcpOpcode.MAP, lifetime, address(), new PcpOpcodeData.MapData(nonce, protocol.ianaNumber(),
                internal, suggested, InetAddress.getByAddress(new byte[4])), List.of(options));
        return PcpCodec.decodeResponse(ByteBuffer.wrap(exchange(PcpCodec.encodeRequest(r))));
    }

    /**
     * Sends, resending on RFC 6886 §3.1's schedule, and returns the first answer to THIS request: a late answer to an
     * earlier request (one that was resent and then answered twice) is skipped, not taken for this one's.
     */
    private byte[] exchange(byte[] request) throws IOException {
        byte[] buf = new byte[1100];
        for (int attempt = 0, timeout = 250; attempt < 5; attempt++, timeout *= 2) {
            socket.send(new DatagramPacket(request, request.length, server));
            long deadline = System.nanoTime() + timeout * 1_000_000L;
            while (true) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    break; // RFC 6886 §3.1: resend, doubling the wait
                }
                socket.setSoTimeout((int) left);
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    socket.receive(p);
                } catch (SocketTimeoutException e) {
                    break;
                }
                byte[] answer = Arrays.copyOf(buf, p.getLength());
                if (answers(request, answer)) {
                    return answer;
                }
            }
        }
        throw new AssertionError("no answer from " + server + " after 5 tries");
    }

    /**
     * Whether {@code answer} answers {@code request}: the same opcode with the response bit, and for a NAT-PMP mapping
     * the same internal port (RFC 6886 §3.3), for a PCP MAP or PEER the same nonce (RFC 6887 §11.1, §12.1).
     */
    static boolean answers(byte[] request, byte[] answer) {
        if (answer.length < 2 || request.length < 2 || (answer[1] & 0xff) != ((request[1] & 0x7f) | 0x80)) {
            return false;
        }
        if (request[0] == 0) { // NAT-PMP
            return request[1] == 0 || answer.length < 10 || (answer[8] == request[4] && answer[9] == request[5]);
        }
        int op = request[1] & 0x7f;
        if ((op == 1 || op == 2) && answer.length >= 36 && request.length >= 36) {
            return Arrays.equals(request, 24, 36, answer, 24, 36);
        }
        return true;
    }

    @Override
    public void close() {
        socket.close();
    }
}
