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

    private byte[] exchange(byte[] request) throws IOException {
        byte[] buf = new byte[1100];
        for (int attempt = 0, timeout = 250; attempt < 5; attempt++, timeout *= 2) {
            socket.send(new DatagramPacket(request, request.length, server));
            socket.setSoTimeout(timeout);
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(p);
                return Arrays.copyOf(buf, p.getLength());
            } catch (SocketTimeoutException e) {
                // RFC 6886 §3.1: resend, doubling the wait
            }
        }
        throw new AssertionError("no answer from " + server + " after 5 tries");
    }

    @Override
    public void close() {
        socket.close();
    }
}
