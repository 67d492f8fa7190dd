package io.natgw.it.admin;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * A NAT-PMP client bound to a chosen loopback address (natpmpc cannot choose its source), to see which
 * external port the gateway grants another host: the port a deleted mapping held must be free again.
 */
final class NatPmpProbe {

    /** RFC 6886 §3.3: version 0, opcode 2 (TCP), reserved, internal port, suggested external port, lifetime. */
    static byte[] mapTcp(int internalPort, int externalPort, int lifetime) {
        return ByteBuffer.allocate(12).put((byte) 0).put((byte) 2).putShort((short) 0).putShort((short) internalPort)
                .putShort((short) externalPort).putInt(lifetime).array();
    }

    record Reply(int opcode, int result, int internalPort, int externalPort, long lifetime) {
    }

    static Reply request(InetAddress from, InetAddress gateway, byte[] packet) throws IOException {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(from, 0))) {
            s.setSoTimeout(30_000); // a ceiling that only catches a lost answer or a hang
            s.send(new DatagramPacket(packet, packet.length, new InetSocketAddress(gateway, 5351)));
            byte[] buf = new byte[64];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            s.receive(p);
            // RFC 6886 §3.3 answer: version, opcode+128, result code, epoch, internal port, external port, lifetime
            ByteBuffer b = ByteBuffer.wrap(buf, 0, p.getLength());
            b.get();
            int opcode = b.get() & 0xff;
            int result = b.getShort() & 0xffff;
            b.getInt();
            return new Reply(opcode, result, b.getShort() & 0xffff, b.getShort() & 0xffff, b.getInt() & 0xffffffffL);
        }
    }
}
