package io.natgw.igd;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A SOAP caller for tests: sends an action from a chosen loopback address (another "LAN host") and reads the
 * outputs or the UPnP error. Shared with the it module's end-to-end tests through igd-server's test-jar.
 *
 * <p>Success is an HTTP 200 answer without a UPnP error: a 403, a 404, a closed connection or any answer that
 * is not UPnP's (HTTP 500 with {@code <errorCode>}) is a failure, with {@link Result#errorCode()}
 * {@link Result#NOT_UPNP} and the status showing what came back (0: the connection closed without an answer).
 */
public final class Soap {

    /**
     * The answer: HTTP status, output arguments (of a 200 answer only), the UPnP error code (0 only for a 200
     * answer without one; {@link #NOT_UPNP} for an answer that is neither), and the raw body.
     */
    public record Result(int status, Map<String, String> outputs, int errorCode, String body) {

        /** The error code of an answer that is neither success (200) nor a UPnP error: 403, 404, closed … */
        public static final int NOT_UPNP = -1;

        /** HTTP 200 and no UPnP error. */
        public boolean ok() {
            return status == 200 && errorCode == 0;
        }

        public String out(String name) {
            return outputs.get(name);
        }

        @Override
        public String toString() {
            return "HTTP " + status + (errorCode != 0 ? " UPnP error " + errorCode : "") + " " + outputs
                    + (ok() ? "" : "\n" + body);
        }
    }

    private static final Pattern ELEMENT = Pattern.compile("<(?:[A-Za-z0-9_]+:)?(New[A-Za-z0-9_]+|return"
            + "|FirewallEnabled|InboundPinholeAllowed|OutboundPinholeTimeout|UniqueID|PinholePackets|IsWorking)>([^<]*)</");
    private static final Pattern ERROR = Pattern.compile("<(?:[A-Za-z0-9_]+:)?errorCode>\\s*(\\d+)\\s*</");

    private final URI control;
    private final String serviceType;

    public Soap(URI control, String serviceType) {
        this.control = control;
        this.serviceType = serviceType;
    }

    public Result call(String action, String... args) throws IOException {
        return callFrom(null, action, args);
    }

    /** {@code args}: name, value, name, value … */
    public Result callFrom(InetAddress from, String action, String... args) throws IOException {
        return raw(from, action, envelope(serviceType, action, args));
    }

    /** The SOAP envelope of an action call, as UPnP clients send it. */
    public static String envelope(String serviceType, String action, String... args) {
        StringBuilder body = new StringBuilder("<?xml version=\"1.0\"?>\r\n"
                + "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\""
                + " s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
                + "<u:" + action + " xmlns:u=\"" + serviceType + "\">");
        for (int i = 0; i < args.length; i += 2) {
            body.append('<').append(args[i]).append('>').append(args[i + 1]).append("</").append(args[i]).append('>');
        }
        return body.append("</u:").append(action).append("></s:Body></s:Envelope>").toString();
    }

    public Result raw(InetAddress from, String action, String body) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "text/xml; charset=\"utf-8\"");
        headers.put("SOAPAction", "\"" + serviceType + "#" + action + "\"");
        return result(RawHttp.exchange(control, from,
                RawHttp.request("POST", control, control.getHost() + ":" + control.getPort(), headers, body)));
    }

    /** Reads an HTTP answer as a SOAP result: success needs status 200. */
    static Result result(RawHttp.Response r) {
        Matcher e = ERROR.matcher(r.body());
        int errorCode = e.find() ? Integer.parseInt(e.group(1)) : r.status() == 200 ? 0 : Result.NOT_UPNP;
        Map<String, String> outputs = new LinkedHashMap<>();
        if (r.status() == 200 && errorCode == 0) {
            Matcher m = ELEMENT.matcher(r.body());
            while (m.find()) {
                outputs.put(m.group(1), unescape(m.group(2)));
            }
        }
        return new Result(r.status(), Collections.unmodifiableMap(outputs), errorCode, r.body());
    }

    static String unescape(String s) {
        return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&");
    }
}
