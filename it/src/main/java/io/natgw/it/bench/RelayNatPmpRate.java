package io.natgw.it.bench;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * NAT-PMP new mappings against the real daemon, sequential (one request in flight), for the relay benchmark's
 * control-plane figures with kernel forwarding: {@code RelayNatPmpRate GATEWAY tcp|udp FIRST_PORT COUNT [LIFETIME]} maps
 * internal ports FIRST_PORT.. (external port suggested equal) for LIFETIME seconds each (default 7200; 0 deletes
 * those mappings, RFC 6886 §3.4), and prints
 * {@code ops N ms T rate R p50us A p99us B failed F}. Every acknowledged mapping is, with kernel forwarding, an
 * element in the kernel already. JDK only; each reply waits at most 2 s.
 */
public final class RelayNatPmpRate {

    private RelayNatPmpRate() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 4 && args.length != 5) {
            System.err.println("usage: RelayNatPmpRate GATEWAY tcp|udp FIRST_PORT COUNT [LIFETIME]");
            System.exit(2);
        }
        InetSocketAddress gw = new InetSocketAddress(args[0], 5351);
        int opcode = args[1].equals("tcp") ? 2 : 1;
        int first = Integer.parseInt(args[2]);
        int count = Integer.parseInt(args[3]);
        int lifetime = args.length == 5 ? Integer.parseInt(args[4]) : 7200;
        if (first < 1 || count < 1 || first + count - 1 > 65535) {
            throw new IllegalArgumentException("ports " + first + "+" + count + " are out of range");
        }
        long[] nanos = new long[count];
        int failed = 0;
        byte[] reply = new byte[64];
        long start = System.nanoTime();
        try (DatagramSocket s = new DatagramSocket()) {
            s.setSoTimeout(2000);
            s.connect(gw);
            for (int i = 0; i < count; i++) {
                int port = first + i;
                ByteBuffer req = ByteBuffer.allocate(12);
                req.put((byte) 0).put((byte) opcode).putShort((short) 0).putShort((short) port).putShort((short) port)
                        .putInt(lifetime);
                long t0 = System.nanoTime();
                s.send(new DatagramPacket(req.array(), 12));
                boolean ok = false;
                try {
                    DatagramPacket p = new DatagramPacket(reply, reply.length);
                    s.receive(p);
                    ByteBuffer r = ByteBuffer.wrap(reply, 0, p.getLength());
                    ok = p.getLength() == 16 && (r.get(1) & 0xff) == 128 + opcode && r.getShort(2) == 0;
                } catch (SocketTimeoutException e) {
                    ok = false;
                }
                nanos[i] = System.nanoTime() - t0;
                if (!ok) {
                    failed++;
                }
            }
        }
        long elapsed = System.nanoTime() - start;
        Arrays.sort(nanos);
        System.out.printf("ops %d ms %d rate %.0f p50us %d p99us %d failed %d%n", count, elapsed / 1_000_000,
                count / (elapsed / 1e9), nanos[count / 2] / 1000, nanos[(int) Math.min(count - 1, Math.ceil(count * 0.99) - 1)] / 1000,
                failed);
    }
}
