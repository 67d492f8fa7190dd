package io.natgw.it.igd;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A second UPnP client for end-to-end tests: plain HTTP over a socket bound to a chosen loopback address,
 * so one machine plays several LAN hosts (127.0.0.2 is "another client" for first-client-wins tests).
 */
final class IgdSoap {

    /** HTTP status, output arguments, UPnP error code (0 on success), raw body. */
    record Result(int status, Map<String, String> outputs, int errorCode, String body) {
    }

    private static final Pattern ELEMENT = Pattern.compile("<(?:[A-Za-z0-9_]+:)?(New[A-Za-z0-9_]+)>([^<]*)</");
    private static final Pattern ERROR = Pattern.compile("<errorCode>(\\d+)</errorCode>");

    private final URI control;
    private final String serviceType;

    IgdSoap(URI control, String serviceType) {
        this.control = control;
        this.serviceType = serviceType;
    }

    Result callFrom(InetAddress from, String action, String... args) throws IOException {
        StringBuilder body = new StringBuilder("<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\""
                + " s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:" + action + " xmlns:u=\"" + serviceType + "\">");
        for (int i = 0; i < args.length; i += 2) {
            body.append('<').append(args[i]).append('>').append(args[i + 1]).append("</").append(args[i]).append('>');
        }
        body.append("</u:").append(action).append("></s:Body></s:Envelope>");
        return post(from, action, body.toString().getBytes(StandardCharsets.UTF_8));
    }

    Result post(InetAddress from, String action, byte[] body) throws IOException {
        String head = "POST " + control.getRawPath() + " HTTP/1.1\r\nHost: " + control.getHost() + ":" + control.getPort()
                + "\r\nContent-Type: text/xml; charset=\"utf-8\"\r\nSOAPAction: \"" + serviceType + "#" + action
                + "\"\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
        String text = exchange(control, from, concat(head.getBytes(StandardCharsets.US_ASCII), body));
        int status = text.startsWith("HTTP/") ? Integer.parseInt(text.substring(9, 12)) : 0;
        Map<String, String> outputs = new LinkedHashMap<>();
        Matcher m = ELEMENT.matcher(text);
        while (m.find()) {
            outputs.put(m.group(1), m.group(2));
        }
        Matcher e = ERROR.matcher(text);
        return new Result(status, outputs, e.find() ? Integer.parseInt(e.group(1)) : 0, text);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Sends raw bytes and returns whatever came back until the server closed ("" when it closed at once). */
    static String exchange(URI target, InetAddress from, byte[] request) throws IOException {
        try (Socket s = new Socket()) {
            s.setSoTimeout(15_000);
            if (from != null) {
                s.bind(new InetSocketAddress(from, 0));
            }
            s.connect(new InetSocketAddress(target.getHost(), target.getPort()), 5_000);
            try {
                OutputStream out = s.getOutputStream();
                out.write(request);
                out.flush();
                s.shutdownOutput(); // all sent: a truncated request is answered or closed at once, not timed out
            } catch (IOException e) {
                // refused early: read the answer
            }
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                InputStream in = s.getInputStream();
                for (int n; (n = in.read(buf)) > 0 && all.size() < 1 << 20; ) {
                    all.write(buf, 0, n);
                }
            } catch (IOException e) {
                // reset after a refusal
            }
            return all.toString(StandardCharsets.UTF_8);
        }
    }

    static String get(URI url) {
        try {
            String text = exchange(url, null, ("GET " + url.getRawPath() + " HTTP/1.1\r\nHost: " + url.getHost() + ":"
                    + url.getPort() + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            int end = text.indexOf("\r\n\r\n");
            return end < 0 ? "" : text.substring(end + 4);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Finds a service's control URL in a device description, as clients do. */
    static URI controlUrl(URI description, String serviceType) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            Document d = f.newDocumentBuilder().parse(new ByteArrayInputStream(get(description).getBytes(StandardCharsets.UTF_8)));
            NodeList services = d.getElementsByTagNameNS("*", "service");
            for (int i = 0; i < services.getLength(); i++) {
                Element s = (Element) services.item(i);
                if (serviceType.equals(s.getElementsByTagNameNS("*", "serviceType").item(0).getTextContent().trim())) {
                    return description.resolve(s.getElementsByTagNameNS("*", "controlURL").item(0).getTextContent().trim());
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot read " + description + ": " + e, e);
        }
        throw new IllegalStateException(serviceType + " is not in " + description);
    }
}
