package io.natgw.gateway;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A client run inside a test's network namespace ({@code ip netns exec}): from a chosen source address, either
 * a NAT-PMP TCP map request for an internal port ({@code natpmp GW FROM PORT [WAIT_MS]}, prints {@code reply RESULT} or
 * {@code no reply}) or an HTTP GET of / ({@code http GW:PORT FROM}, prints {@code status N} or {@code closed}).
 */
public final class SpoofClient {

    private SpoofClient() {
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("natpmp")) {
            InetAddress gw = InetAddress.getByName(args[1]);
            InetAddress from = InetAddress.getByName(args[2]);
            int port = Integer.parseInt(args[3]);
            // RFC 6886 §3.3: version 0, opcode 2 (TCP), reserved, internal port, suggested external port, lifetime
            ByteBuffer b = ByteBuffer.allocate(12).put((byte) 0).put((byte) 2).putShort((short) 0)
                    .putShort((short) port).putShort((short) port).putInt(600);
            // how long to wait: a ceiling when a reply is expected, the window of silence when none is
            int waitMillis = args.length > 4 ? Integer.parseInt(args[4]) : 30_000;
            try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(from, 0))) {
                s.setSoTimeout(waitMillis);
                s.send(new DatagramPacket(b.array(), 12, gw, 5351));
                byte[] buf = new byte[64];
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    s.receive(p);
                    System.out.println("reply " + (((buf[2] & 0xff) << 8) | (buf[3] & 0xff)));
                } catch (SocketTimeoutException e) {
                    System.out.println("no reply");
                }
            }
        } else {
            String[] hp = args[1].split(":");
            try (Socket s = new Socket()) {
                s.bind(new InetSocketAddress(InetAddress.getByName(args[2]), 0));
                s.connect(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), 30_000); // ceilings that only catch a hang
                s.setSoTimeout(30_000);
                String head;
                try {
                    OutputStream out = s.getOutputStream();
                    out.write(("GET / HTTP/1.1\r\nHost: " + args[1] + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    InputStream in = s.getInputStream();
                    head = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
                } catch (SocketException e) {
                    // Closed before the request came: the request then met a closed socket, whose answer is a reset.
                    // Whether the client reads the end of the stream or that reset first is a race.
                    head = "";
                }
                System.out.println(head.startsWith("HTTP/1.1 ") ? "status " + head.substring(9, 12) : "closed");
            }
        }
    }
}
