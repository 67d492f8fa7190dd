package io.natgw.it.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * NAT-PMP new mappings against the real daemon, sequential (one request in flight), for the relay benchmark's
 * control-plane figures with kernel forwarding: {@code RelayNatPmpRate GATEWAY tcp|udp FIRST_PORT COUNT [LIFETIME]} maps
 * internal ports FIRST_PORT.. (external port suggested equal) for LIFETIME seconds each (default 7200; 0 deletes
 * those mappings, RFC 6886 §3.4), and prints
 * {@code ops N ms T rate R p50us A p99us B failed F}. Every acknowledged mapping is, with kernel forwarding, an
 * element in the kernel already. JDK only; each reply waits at most 2 s.
 *
 * <p>{@code RelayNatPmpRate GATEWAY -} keeps one client (one JVM, one socket) for many passes: it reads a pass per line
 * from standard input ({@code tcp|udp FIRST_PORT COUNT [LIFETIME]}, or {@code warm COUNT}: COUNT external-address
 * requests, opcode 0, which change nothing in the table) and prints each pass's line as it ends. A fresh JVM per pass
 * measured its own just-in-time compiler too: in one such client the same daemon answered 2 600 adds/s in the first
 * pass of 1 000 and 4 000/s in the third, while its own requests' path was compiled.
 */
public final class RelayNatPmpRate {

    private RelayNatPmpRate() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 2 && args[1].equals("-")) {
            try (DatagramSocket s = open(args[0]);
                 BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    String[] pass = line.trim().split("\\s+");
                    if (pass.length == 2 && pass[0].equals("warm")) {
                        warm(s, Integer.parseInt(pass[1]));
                        System.out.println("warm " + pass[1]);
                    } else {
                        run(s, pass);
                    }
                    System.out.flush();
                }
            }
            return;
        }
        if (args.length != 4 && args.length != 5) {
            System.err.println("usage: RelayNatPmpRate GATEWAY tcp|udp FIRST_PORT COUNT [LIFETIME]  or  RelayNatPmpRate GATEWAY -");
            System.exit(2);
        }
        try (DatagramSocket s = open(args[0])) {
            run(s, Arrays.copyOfRange(args, 1, args.length));
        }
    }

    private static DatagramSocket open(String gateway) throws IOException {
        DatagramSocket s = new DatagramSocket();
        s.setSoTimeout(2000);
        s.connect(new InetSocketAddress(gateway, 5351));
        return s;
    }

    /** COUNT external-address requests (RFC 6886 §3.2), each awaited: the client's own send and receive path, warmed. */
    private static void warm(DatagramSocket s, int count) throws IOException {
        byte[] reply = new byte[64];
        for (int i = 0; i < count; i++) {
            s.send(new DatagramPacket(new byte[2], 2));
            DatagramPacket p = new DatagramPacket(reply, reply.length);
            s.receive(p);
            if (p.getLength() != 12 || (reply[1] & 0xff) != 128) {
                throw new IOException("not an external-address answer: " + p.getLength() + " bytes, opcode " + (reply[1] & 0xff));
            }
        }
    }

    /** One pass: {@code tcp|udp FIRST_PORT COUNT [LIFETIME]}; prints its line. */
    private static void run(DatagramSocket s, String[] pass) throws IOException {
        if (pass.length != 3 && pass.length != 4) {
            throw new IllegalArgumentException("a pass is tcp|udp FIRST_PORT COUNT [LIFETIME], not " + String.join(" ", pass));
        }
        int opcode = pass[0].equals("tcp") ? 2 : 1;
        int first = Integer.parseInt(pass[1]);
        int count = Integer.parseInt(pass[2]);
        int lifetime = pass.length == 4 ? Integer.parseInt(pass[3]) : 7200;
        if (first < 1 || count < 1 || first + count - 1 > 65535) {
            throw new IllegalArgumentException("ports " + first + "+" + count + " are out of range");
        }
        long[] nanos = new long[count];
        int failed = 0;
        byte[] reply = new byte[64];
        long start = System.nanoTime();
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
        long elapsed = System.nanoTime() - start;
        Arrays.sort(nanos);
        System.out.printf("ops %d ms %d rate %.0f p50us %d p99us %d failed %d%n", count, elapsed / 1_000_000,
                count / (elapsed / 1e9), nanos[count / 2] / 1000, nanos[(int) Math.min(count - 1, Math.ceil(count * 0.99) - 1)] / 1000,
                failed);
    }
}
