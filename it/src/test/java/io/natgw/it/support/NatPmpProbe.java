package io.natgw.it.support;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * A NAT-PMP client bound to a chosen loopback address (natpmpc cannot choose its source), to act as another
 * LAN host: which external port the gateway grants it, whether it answers during a flood.
 */
public final class NatPmpProbe {

    /** How long {@link #request(InetAddress, InetAddress, byte[])} waits: a ceiling that only catches a lost answer or a hang. */
    public static final Duration CEILING = Duration.ofSeconds(30);

    private NatPmpProbe() {
    }

    /**
     * RFC 6886 §3.3: version 0, opcode (1 UDP, 2 TCP), reserved, internal port, suggested external port, lifetime
     * (0 deletes).
     */
    public static byte[] map(int opcode, int internalPort, int externalPort, int lifetime) {
        return ByteBuffer.allocate(12).put((byte) 0).put((byte) opcode).putShort((short) 0).putShort((short) internalPort)
                .putShort((short) externalPort).putInt(lifetime).array();
    }

    public static byte[] mapTcp(int internalPort, int externalPort, int lifetime) {
        return map(2, internalPort, externalPort, lifetime);
    }

    /** An answer: its opcode (128 + the request's), result code, ports and lifetime. */
    public record Reply(int opcode, int result, int internalPort, int externalPort, long lifetime) {
    }

    public static Reply request(InetAddress from, InetAddress gateway, byte[] packet) throws IOException {
        return request(from, gateway, packet, CEILING);
    }

    /** Sends {@code packet} from {@code from} to the gateway's port 5351 and reads the answer, waiting up to {@code wait}. */
    public static Reply request(InetAddress from, InetAddress gateway, byte[] packet, Duration wait) throws IOException {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(from, 0))) {
            s.setSoTimeout((int) wait.toMillis());
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
