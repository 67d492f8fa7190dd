package io.natgw.it.dataplane;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;

/**
 * The hosts around the gateway, run inside the test's namespaces as {@code java -cp TEST_CLASSES Peers MODE ...}
 * (JDK only, so the test classes directory is the whole classpath):
 * <ul>
 *   <li>{@code irc ADDR PORT} — an IRC-like server: on each connection it connects back to the client's address on
 *       113, sends an IDENT query (RFC 1413) and tells the client {@code IDENT OK <reply>} or {@code IDENT FAIL <why>}.</li>
 *   <li>{@code ident ADDR USER} — an ident responder on ADDR:113 answering {@code ... : USERID : UNIX : USER}.</li>
 *   <li>{@code echo ADDR PORT} — TCP and UDP echo on ADDR:PORT.</li>
 *   <li>{@code line BIND HOST PORT} — connects from BIND, prints the first line the server sends.</li>
 *   <li>{@code stream HOST PORT} — keeps 64 KiB blocks going through an echo until the connection breaks.</li>
 *   <li>{@code forwards HOST PORT...} — a TCP and a UDP exchange with an echo behind each port.</li>
 *   <li>{@code tcp HOST PORT TEXT} / {@code udp HOST PORT TEXT} — sends TEXT, prints the reply.</li>
 *   <li>{@code reply ADDR PORT BYTES} — reads each connection's request to its end, then sends {@link #pattern}
 *       of BYTES and closes.</li>
 *   <li>{@code fetch HOST PORT TEXT} — sends TEXT and half-closes, waits 300 ms (so the reply piles up in the
 *       relay), reads everything and prints {@code BYTES SHA-256}.</li>
 * </ul>
 * Servers print {@code ready} once listening. Every socket operation has a timeout.
 */
public final class Peers {

    private static final int TIMEOUT_MS = 3000;

    private Peers() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = System.out;
        switch (args[0]) {
            case "irc" -> irc(args[1], Integer.parseInt(args[2]));
            case "ident" -> ident(args[1], args[2]);
            case "echo" -> echo(args[1], Integer.parseInt(args[2]));
            case "line" -> {
                try (Socket s = new Socket()) {
                    s.bind(new InetSocketAddress(args[1], 0));
                    s.connect(new InetSocketAddress(args[2], Integer.parseInt(args[3])), TIMEOUT_MS);
                    s.setSoTimeout(TIMEOUT_MS * 2);
                    out.println(reader(s).readLine());
                }
            }
            case "tcp" -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(args[1], Integer.parseInt(args[2])), TIMEOUT_MS);
                    s.setSoTimeout(TIMEOUT_MS);
                    s.getOutputStream().write((args[3] + "\n").getBytes(StandardCharsets.US_ASCII));
                    out.println(reader(s).readLine());
                }
            }
            case "udp" -> {
                try (DatagramSocket s = new DatagramSocket()) {
                    s.setSoTimeout(TIMEOUT_MS);
                    byte[] b = args[3].getBytes(StandardCharsets.US_ASCII);
                    s.send(new DatagramPacket(b, b.length, new InetSocketAddress(args[1], Integer.parseInt(args[2]))));
                    DatagramPacket p = new DatagramPacket(new byte[1500], 1500);
                    s.receive(p);
                    out.println(new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII) + " from "
                            + p.getAddress().getHostAddress() + ":" + p.getPort());
                }
            }
            case "stream" -> {
                // Keeps an echo busy through the relay until the connection breaks: 64 KiB out, 64 KiB back, again.
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(args[1], Integer.parseInt(args[2])), TIMEOUT_MS);
                    s.setSoTimeout(TIMEOUT_MS);
                    byte[] chunk = new byte[64 * 1024];
                    for (long round = 0; ; round++) {
                        s.getOutputStream().write(chunk);
                        s.getInputStream().readNBytes(chunk.length);
                        if (round == 0) {
                            out.println("ready");
                        }
                    }
                } catch (IOException e) {
                    out.println("stream ended: " + e);
                }
            }
            case "reply" -> reply(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            case "fetch" -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(args[1], Integer.parseInt(args[2])), TIMEOUT_MS);
                    s.setSoTimeout(TIMEOUT_MS);
                    s.getOutputStream().write(args[3].getBytes(StandardCharsets.US_ASCII));
                    s.shutdownOutput();
                    Thread.sleep(300);
                    byte[] got = s.getInputStream().readAllBytes();
                    out.println(got.length + " " + sha256(got));
                }
            }
            case "forwards" -> {
                StringBuilder sb = new StringBuilder();
                for (int i = 2; i < args.length; i++) {
                    sb.append(i > 2 ? "; " : "").append(forwards(args[1], Integer.parseInt(args[i])));
                }
                out.println(sb);
            }
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    /** One TCP and one UDP exchange with an echo behind HOST:PORT: {@code PORT tcp=TEXT udp=TEXT from ADDR:PORT}. */
    private static String forwards(String host, int port) {
        String tcp;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), TIMEOUT_MS);
            s.setSoTimeout(TIMEOUT_MS);
            s.getOutputStream().write(("t" + port + "\n").getBytes(StandardCharsets.US_ASCII));
            tcp = reader(s).readLine();
        } catch (IOException e) {
            tcp = e.toString();
        }
        String udp;
        try (DatagramSocket s = new DatagramSocket()) {
            s.setSoTimeout(TIMEOUT_MS);
            byte[] b = ("u" + port).getBytes(StandardCharsets.US_ASCII);
            s.send(new DatagramPacket(b, b.length, new InetSocketAddress(host, port)));
            DatagramPacket p = new DatagramPacket(new byte[1500], 1500);
            s.receive(p);
            udp = new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII) + " from "
                    + p.getAddress().getHostAddress() + ":" + p.getPort();
        } catch (IOException e) {
            udp = e.toString();
        }
        return port + " tcp=" + tcp + " udp=" + udp;
    }

    private static BufferedReader reader(Socket s) throws IOException {
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
    }

    private static void irc(String addr, int port) throws IOException {
        try (ServerSocket server = new ServerSocket(port, 50, InetAddress.getByName(addr))) {
            System.out.println("ready");
            while (true) {
                Socket client = server.accept();
                spawn(() -> ircSession(client));
            }
        }
    }

    private static void ircSession(Socket client) {
        try (client) {
            client.setSoTimeout(TIMEOUT_MS);
            String verdict;
            // RFC 1413: the query names the client's port on its host, then ours.
            try (Socket ident = new Socket()) {
                ident.connect(new InetSocketAddress(client.getInetAddress(), 113), TIMEOUT_MS);
                ident.setSoTimeout(TIMEOUT_MS);
                ident.getOutputStream().write((client.getPort() + ", " + client.getLocalPort() + "\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                String reply = reader(ident).readLine();
                verdict = reply == null ? "IDENT FAIL no reply" : "IDENT OK " + reply;
            } catch (IOException e) {
                verdict = "IDENT FAIL " + e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            System.out.println(client.getRemoteSocketAddress() + " " + verdict);
            client.getOutputStream().write((verdict + "\r\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            System.out.println("irc session: " + e);
        }
    }

    private static void ident(String addr, String user) throws IOException {
        try (ServerSocket server = new ServerSocket(113, 50, InetAddress.getByName(addr))) {
            System.out.println("ready");
            while (true) {
                try (Socket s = server.accept()) {
                    s.setSoTimeout(TIMEOUT_MS);
                    String query = reader(s).readLine();
                    OutputStream o = s.getOutputStream();
                    o.write((String.valueOf(query).trim() + " : USERID : UNIX : " + user + "\r\n").getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    System.out.println("ident: " + e);
                }
            }
        }
    }

    private static void echo(String addr, int port) throws IOException {
        InetAddress a = InetAddress.getByName(addr);
        DatagramSocket udp = new DatagramSocket(new InetSocketAddress(a, port));
        spawn(() -> {
            byte[] buf = new byte[1500];
            while (true) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    udp.receive(p);
                    udp.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
                } catch (IOException e) {
                    return;
                }
            }
        });
        try (ServerSocket server = new ServerSocket(port, 50, a)) {
            System.out.println("ready");
            while (true) {
                Socket s = server.accept();
                spawn(() -> {
                    try (s) {
                        s.getInputStream().transferTo(s.getOutputStream());
                    } catch (IOException e) {
                        // peer went away
                    }
                });
            }
        }
    }

    /** The deterministic bytes {@code reply} sends. */
    static byte[] pattern(int bytes) {
        byte[] b = new byte[bytes];
        new Random(bytes).nextBytes(b);
        return b;
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void reply(String addr, int port, int bytes) throws IOException {
        byte[] body = pattern(bytes);
        try (ServerSocket server = new ServerSocket(port, 50, InetAddress.getByName(addr))) {
            System.out.println("ready");
            while (true) {
                Socket s = server.accept();
                spawn(() -> {
                    try (s) {
                        s.setSoTimeout(TIMEOUT_MS);
                        s.getInputStream().readAllBytes();
                        s.getOutputStream().write(body);
                    } catch (IOException e) {
                        // peer went away
                    }
                });
            }
        }
    }

    private static void spawn(Runnable r) {
        Thread t = new Thread(r);
        t.setDaemon(true);
        t.start();
    }
}
