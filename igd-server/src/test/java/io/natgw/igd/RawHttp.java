package io.natgw.igd;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A tiny HTTP/1.1 client over a plain socket, so tests control every byte (Host header, methods such as
 * SUBSCRIBE, malformed requests) and bind the client to a chosen loopback address (another "LAN host").
 * Shared with the it module's end-to-end tests through igd-server's test-jar.
 */
public final class RawHttp {

    /** What came back: status, lower-case headers, body. Status 0 when the server closed without answering. */
    public record Response(int status, Map<String, String> headers, String body) {
    }

    private RawHttp() {
    }

    public static Response exchange(URI target, InetAddress from, String request) throws IOException {
        return exchange(target, from, request.getBytes(StandardCharsets.UTF_8));
    }

    public static Response exchange(URI target, InetAddress from, byte[] request) throws IOException {
        return exchange(target, from, request, false);
    }

    /**
     * Sends {@code request} and reads until the server closes. {@code halfClose}: shut the output down once
     * sent, so a truncated request is answered or closed at once instead of waiting for the rest.
     */
    public static Response exchange(URI target, InetAddress from, byte[] request, boolean halfClose) throws IOException {
        try (Socket s = new Socket()) {
            s.setSoTimeout(15_000);
            if (from != null) {
                s.bind(new InetSocketAddress(from, 0));
            }
            s.connect(new InetSocketAddress(target.getHost(), target.getPort()), 5_000);
            OutputStream out = s.getOutputStream();
            try {
                out.write(request);
                out.flush();
                if (halfClose) {
                    s.shutdownOutput();
                }
            } catch (IOException e) {
                // the server may refuse and close before the whole request was sent: read what it answered
            }
            return read(s.getInputStream());
        }
    }

    public static String request(String method, URI target, String host, Map<String, String> headers, String body) {
        StringBuilder sb = new StringBuilder();
        sb.append(method).append(' ').append(target.getRawPath()).append(" HTTP/1.1\r\n");
        if (host != null) {
            sb.append("Host: ").append(host).append("\r\n");
        }
        headers.forEach((k, v) -> sb.append(k).append(": ").append(v).append("\r\n"));
        byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        sb.append("Content-Length: ").append(b.length).append("\r\nConnection: close\r\n\r\n");
        if (body != null) {
            sb.append(body);
        }
        return sb.toString();
    }

    public static Response get(URI target, Map<String, String> headers) throws IOException {
        return exchange(target, null, request("GET", target, target.getHost() + ":" + target.getPort(), headers, null));
    }

    /** Everything the server sends until it closes (at most 4 MiB); a reset after a refusal keeps what arrived. */
    static String readUntilClosed(InputStream in) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        try {
            while ((n = in.read(buf)) > 0) {
                all.write(buf, 0, n);
                if (all.size() > 4 * 1024 * 1024) {
                    break;
                }
            }
        } catch (IOException e) {
            // connection reset after a refusal: keep what arrived
        }
        return all.toString(StandardCharsets.UTF_8);
    }

    static Response read(InputStream in) {
        String text = readUntilClosed(in);
        int end = text.indexOf("\r\n\r\n");
        if (!text.startsWith("HTTP/") || end < 0) {
            return new Response(0, Map.of(), text);
        }
        String[] lines = text.substring(0, end).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            if (c > 0) {
                headers.put(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
            }
        }
        return new Response(status, headers, text.substring(end + 4));
    }
}
