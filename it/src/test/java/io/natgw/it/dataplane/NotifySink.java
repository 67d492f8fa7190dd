package io.natgw.it.dataplane;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A GENA subscriber's callback server, run in a network namespace
 * ({@code ip netns exec LAN java -cp ... NotifySink ADDRESS PORT}): prints {@code ready}, then for each request one
 * line {@code METHOD BODY} (the body's line breaks removed), and answers 200. Bounded: requests of 64 KiB at most,
 * 200 requests, 10 s each; then it exits.
 */
public final class NotifySink {

    private static final int MAX_REQUEST = 64 * 1024;

    private NotifySink() {
    }

    public static void main(String[] args) throws IOException {
        try (ServerSocket server = new ServerSocket(Integer.parseInt(args[1]), 16, InetAddress.getByName(args[0]))) {
            System.out.println("ready");
            System.out.flush();
            for (int i = 0; i < 200; i++) {
                try (Socket s = server.accept()) {
                    s.setSoTimeout(10_000);
                    String request = read(s.getInputStream());
                    int headersEnd = request.indexOf("\r\n\r\n");
                    String method = request.isEmpty() ? "?" : request.substring(0, Math.max(0, request.indexOf(' ')));
                    String body = headersEnd < 0 ? "" : request.substring(headersEnd + 4);
                    System.out.println(method + " " + body.replaceAll("[\\r\\n]+", ""));
                    System.out.flush();
                    s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    System.out.println("ERROR " + e);
                }
            }
        }
    }

    /** The headers, then as many body bytes as Content-Length says. */
    private static String read(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int contentLength = -1;
        int headersEnd = -1;
        int c;
        while (buf.size() < MAX_REQUEST && (c = in.read()) >= 0) {
            buf.write(c);
            if (headersEnd < 0 && buf.size() >= 4 && buf.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                headersEnd = buf.size();
                String headers = buf.toString(StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
                int at = headers.indexOf("content-length:");
                contentLength = at < 0 ? 0 : Integer.parseInt(headers.substring(at + 15, headers.indexOf("\r\n", at)).trim());
            }
            if (headersEnd >= 0 && buf.size() - headersEnd >= contentLength) {
                break;
            }
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
