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
import java.util.List;
import java.util.Random;

/**
 * The hosts around the gateway, run inside the test's namespaces as {@code java -cp TEST_CLASSES Peers MODE ...}
 * (JDK only, so the test classes directory is the whole classpath):
 * <ul>
 *   <li>{@code irc ADDR PORT} — an IRC-like server: on each connection it connects back to the client's address on
 *       113, sends an IDENT query (RFC 1413) and tells the client {@code IDENT OK <reply>} or {@code IDENT FAIL <why>}.</li>
 *   <li>{@code ident ADDR USER [strict]} — an ident responder on ADDR:113 answering {@code ... : USERID : UNIX : USER};
 *       {@code strict}: only for a port pair that is one of ADDR's live TCP connections (from {@code /proc/net/tcp}),
 *       else {@code ... : ERROR : NO-USER}, as a real identd.</li>
 *   <li>{@code peer ADDR PORT} — TCP and UDP on ADDR:PORT answering each line/datagram with the sender's ADDR:PORT
 *       as this host sees it.</li>
 *   <li>{@code ask HOST PORT LOCALPORT} — a TCP and a UDP exchange with a {@code peer} from LOCALPORT:
 *       {@code tcp=ADDR:PORT udp=ADDR:PORT}; {@code ask-from BIND HOST PORT LOCALPORT} from the address BIND.</li>
 *   <li>{@code line-from BIND HOST PORT} — one line to a {@code peer} from BIND, prints the answer or the failure.</li>
 *   <li>{@code line-port BIND HOST PORT LOCALPORT} — as {@code line}, from BIND:LOCALPORT.</li>
 *   <li>{@code sink ADDR PORT} / {@code send HOST PORT BYTES} — BYTES over TCP, answered {@code got BYTES}.</li>
 *   <li>{@code udp-from BIND HOST PORT TEXT} — as {@code udp}, from the address BIND.</li>
 *   <li>{@code udp-repeat HOST PORT COUNT INTERVAL_MS} — COUNT datagrams to an echo, paced: {@code replies N}.</li>
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
            case "ident" -> ident(args[1], args[2], args.length > 3 && args[3].equals("strict"));
            case "peer" -> peer(args[1], Integer.parseInt(args[2]));
            case "sink" -> sink(args[1], Integer.parseInt(args[2]));
            case "udp-from" -> {
                // From BIND: one datagram, prints the reply and where it came from.
                try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(args[1], 0))) {
                    s.setSoTimeout(TIMEOUT_MS);
                    byte[] b = args[4].getBytes(StandardCharsets.US_ASCII);
                    s.send(new DatagramPacket(b, b.length, new InetSocketAddress(args[2], Integer.parseInt(args[3]))));
                    DatagramPacket p = new DatagramPacket(new byte[1500], 1500);
                    s.receive(p);
                    out.println(new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII) + " from "
                            + p.getAddress().getHostAddress() + ":" + p.getPort());
                }
            }
            case "udp-repeat" -> {
                // COUNT datagrams to HOST:PORT, one every INTERVAL ms (pacing, bounded), each waiting for its echo
                int replies = 0;
                try (DatagramSocket s = new DatagramSocket()) {
                    s.setSoTimeout(TIMEOUT_MS);
                    for (int i = 0; i < Integer.parseInt(args[3]); i++) {
                        byte[] b = ("n" + i).getBytes(StandardCharsets.US_ASCII);
                        s.send(new DatagramPacket(b, b.length, new InetSocketAddress(args[1], Integer.parseInt(args[2]))));
                        try {
                            s.receive(new DatagramPacket(new byte[1500], 1500));
                            replies++;
                        } catch (java.net.SocketTimeoutException e) {
                            // counted as missing
                        }
                        Thread.sleep(Long.parseLong(args[4]));
                    }
                }
                out.println("replies " + replies);
            }
            case "ask" -> out.println(ask(null, args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3])));
            case "ask-from" -> out.println(ask(args[1], args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4])));
            case "line-from" -> {
                // From BIND: sends a line to a peer server, prints its answer (or the failure).
                try (Socket s = new Socket()) {
                    s.bind(new InetSocketAddress(args[1], 0));
                    s.connect(new InetSocketAddress(args[2], Integer.parseInt(args[3])), TIMEOUT_MS);
                    s.setSoTimeout(TIMEOUT_MS);
                    s.getOutputStream().write("who\n".getBytes(StandardCharsets.US_ASCII));
                    out.println(reader(s).readLine());
                } catch (IOException e) {
                    out.println(e);
                }
            }
            case "line-port" -> {
                // From BIND:LOCALPORT, prints the first line the server sends.
                try (Socket s = new Socket()) {
                    s.setReuseAddress(true);
                    s.bind(new InetSocketAddress(args[1], Integer.parseInt(args[4])));
                    s.connect(new InetSocketAddress(args[2], Integer.parseInt(args[3])), TIMEOUT_MS);
                    s.setSoTimeout(TIMEOUT_MS * 2);
                    out.println(reader(s).readLine());
                }
            }
            case "send" -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(args[1], Integer.parseInt(args[2])), TIMEOUT_MS);
                    s.setSoTimeout(TIMEOUT_MS * 3);
                    byte[] chunk = new byte[64 * 1024];
                    for (long left = Long.parseLong(args[3]); left > 0; left -= chunk.length) {
                        s.getOutputStream().write(chunk, 0, (int) Math.min(left, chunk.length));
                    }
                    s.shutdownOutput();
                    out.println(reader(s).readLine());
                }
            }
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
                        } else if (round % 16 == 0) {
                            out.println("round " + round);
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

    private static void ident(String addr, String user, boolean strict) throws IOException {
        InetAddress self = InetAddress.getByName(addr);
        try (ServerSocket server = new ServerSocket(113, 50, self)) {
            System.out.println("ready");
            while (true) {
                try (Socket s = server.accept()) {
                    s.setSoTimeout(TIMEOUT_MS);
                    String query = String.valueOf(reader(s).readLine()).trim();
                    OutputStream o = s.getOutputStream();
                    String answer = !strict || live(self, query) ? " : USERID : UNIX : " + user : " : ERROR : NO-USER";
                    System.out.println("ident " + query + answer);
                    o.write((query + answer + "\r\n").getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    System.out.println("ident: " + e);
                }
            }
        }
    }

    /** RFC 1413 {@code LOCALPORT , REMOTEPORT}: whether {@code self} has that established TCP connection now. */
    private static boolean live(InetAddress self, String query) {
        String[] ports = query.split(",");
        if (ports.length != 2) {
            return false;
        }
        try {
            int local = Integer.parseInt(ports[0].trim());
            int remote = Integer.parseInt(ports[1].trim());
            byte[] a = self.getAddress();
            String hexAddr = String.format("%02X%02X%02X%02X", a[3], a[2], a[1], a[0]); // /proc/net/tcp: little-endian
            // Java's sockets are dual-stack: IPv4 connections show in tcp6 as ::ffff:a.b.c.d
            List<String> lines = new java.util.ArrayList<>(java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/net/tcp")));
            lines.addAll(java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/net/tcp6")));
            for (String line : lines) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 4 || !f[1].contains(":")) {
                    continue;
                }
                String[] l = f[1].split(":");
                String[] r = f[2].split(":");
                boolean mine = l[0].equals(hexAddr) || l[0].equals("0000000000000000FFFF0000" + hexAddr);
                if (mine && Integer.parseInt(l[1], 16) == local && Integer.parseInt(r[1], 16) == remote
                        && f[3].equals("01")) {
                    return true;
                }
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return false;
    }

    private static void peer(String addr, int port) throws IOException {
        InetAddress a = InetAddress.getByName(addr);
        DatagramSocket udp = new DatagramSocket(new InetSocketAddress(a, port));
        spawn(() -> {
            byte[] buf = new byte[1500];
            while (true) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    udp.receive(p);
                    byte[] b = (p.getAddress().getHostAddress() + ":" + p.getPort()).getBytes(StandardCharsets.US_ASCII);
                    udp.send(new DatagramPacket(b, b.length, p.getSocketAddress()));
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
                        s.setSoTimeout(TIMEOUT_MS);
                        reader(s).readLine();
                        s.getOutputStream().write((s.getInetAddress().getHostAddress() + ":" + s.getPort() + "\n")
                                .getBytes(StandardCharsets.US_ASCII));
                    } catch (IOException e) {
                        // peer went away
                    }
                });
            }
        }
    }

    private static String ask(String bind, String host, int port, int localPort) throws IOException {
        InetAddress from = bind == null ? null : InetAddress.getByName(bind);
        String tcp;
        try (Socket s = new Socket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(from, localPort));
            s.connect(new InetSocketAddress(host, port), TIMEOUT_MS);
            s.setSoTimeout(TIMEOUT_MS);
            s.getOutputStream().write("who\n".getBytes(StandardCharsets.US_ASCII));
            tcp = reader(s).readLine();
        } catch (IOException e) {
            tcp = e.toString();
        }
        String udp;
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(from, localPort))) {
            s.setSoTimeout(TIMEOUT_MS);
            byte[] b = "who".getBytes(StandardCharsets.US_ASCII);
            s.send(new DatagramPacket(b, b.length, new InetSocketAddress(host, port)));
            DatagramPacket p = new DatagramPacket(new byte[1500], 1500);
            s.receive(p);
            udp = new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            udp = e.toString();
        }
        return "tcp=" + tcp + " udp=" + udp;
    }

    private static void sink(String addr, int port) throws IOException {
        try (ServerSocket server = new ServerSocket(port, 50, InetAddress.getByName(addr))) {
            System.out.println("ready");
            while (true) {
                Socket s = server.accept();
                spawn(() -> {
                    try (s) {
                        s.setSoTimeout(TIMEOUT_MS * 3);
                        long n = s.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                        s.getOutputStream().write(("got " + n + "\n").getBytes(StandardCharsets.US_ASCII));
                    } catch (IOException e) {
                        // peer went away
                    }
                });
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
