package io.natgw.it.bench;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * A STUN binding responder for {@code bench/control-plane.sh}: answers every Binding Request (RFC 5389) with the
 * source address it came from, as MAPPED-ADDRESS and XOR-MAPPED-ADDRESS, and ignores CHANGE-REQUEST (it has one
 * address). miniupnpd refuses to map while its external address is a reserved one such as 203.0.113.1; with
 * {@code ext_perform_stun=yes} pointed at this responder it learns that address by STUN, concludes it is behind a
 * full-cone 1:1 NAT (every probe answered) and forwards. Not a STUN server for anything else: no authentication, no
 * other methods, IPv4 only. JDK only, so the script can compile it with {@code javac} alone.
 *
 * <p>{@code java io.natgw.it.bench.StunResponder ADDRESS PORT}; runs until killed.
 */
public final class StunResponder {

    private static final int MAGIC_COOKIE = 0x2112A442;
    private static final int BINDING_REQUEST = 0x0001;
    private static final int BINDING_SUCCESS = 0x0101;

    private StunResponder() {
    }

    public static void main(String[] args) throws Exception {
        InetSocketAddress bind = new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1]));
        try (DatagramSocket socket = new DatagramSocket(bind)) {
            System.out.println("stun responder on " + bind);
            byte[] buf = new byte[1500];
            while (true) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                socket.receive(p);
                byte[] reply = answer(ByteBuffer.wrap(buf, 0, p.getLength()), (InetSocketAddress) p.getSocketAddress());
                if (reply != null) {
                    socket.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
                }
            }
        }
    }

    /** The Binding Success response to a Binding Request from {@code from}, or null for anything else. */
    static byte[] answer(ByteBuffer request, InetSocketAddress from) {
        if (request.remaining() < 20 || request.getShort(0) != BINDING_REQUEST || !(from.getAddress().getAddress().length == 4)) {
            return null;
        }
        byte[] cookieAndId = new byte[16]; // the magic cookie (or RFC 3489's first id bytes) and the transaction id
        request.get(4, cookieAndId);
        byte[] address = from.getAddress().getAddress();
        int port = from.getPort();
        ByteBuffer out = ByteBuffer.allocate(20 + 12 + 12);
        out.putShort((short) BINDING_SUCCESS).putShort((short) 24).put(cookieAndId);
        out.putShort((short) 0x0001).putShort((short) 8).put((byte) 0).put((byte) 1).putShort((short) port).put(address);
        int xorAddress = ByteBuffer.wrap(address).getInt() ^ MAGIC_COOKIE;
        out.putShort((short) 0x0020).putShort((short) 8).put((byte) 0).put((byte) 1)
                .putShort((short) (port ^ (MAGIC_COOKIE >>> 16))).putInt(xorAddress);
        return out.array();
    }
}
