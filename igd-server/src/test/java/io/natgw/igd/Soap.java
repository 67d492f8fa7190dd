package io.natgw.igd;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A SOAP caller for tests: sends an action from a chosen loopback address and reads outputs or the UPnP error. */
final class Soap {

    /** The answer: HTTP status, output arguments, and the UPnP error code (0 on success). */
    record Result(int status, Map<String, String> outputs, int errorCode, String body) {
        String out(String name) {
            return outputs.get(name);
        }
    }

    private static final Pattern ELEMENT = Pattern.compile("<(?:[A-Za-z0-9_]+:)?(New[A-Za-z0-9_]+|return)>([^<]*)</");
    private static final Pattern ERROR = Pattern.compile("<errorCode>(\\d+)</errorCode>");

    private final URI control;
    private final String serviceType;

    Soap(URI control, String serviceType) {
        this.control = control;
        this.serviceType = serviceType;
    }

    Result call(String action, String... args) throws IOException {
        return callFrom(null, action, args);
    }

    Result callFrom(InetAddress from, String action, String... args) throws IOException {
        StringBuilder body = new StringBuilder("<?xml version=\"1.0\"?>\r\n"
                + "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\""
                + " s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
                + "<u:" + action + " xmlns:u=\"" + serviceType + "\">");
        for (int i = 0; i < args.length; i += 2) {
            body.append('<').append(args[i]).append('>').append(args[i + 1]).append("</").append(args[i]).append('>');
        }
        body.append("</u:").append(action).append("></s:Body></s:Envelope>");
        return raw(from, action, body.toString());
    }

    Result raw(InetAddress from, String action, String body) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "text/xml; charset=\"utf-8\"");
        headers.put("SOAPAction", "\"" + serviceType + "#" + action + "\"");
        RawHttp.Response r = RawHttp.exchange(control, from,
                RawHttp.request("POST", control, control.getHost() + ":" + control.getPort(), headers, body));
        Map<String, String> outputs = new LinkedHashMap<>();
        Matcher m = ELEMENT.matcher(r.body());
        while (m.find()) {
            outputs.put(m.group(1), unescape(m.group(2)));
        }
        Matcher e = ERROR.matcher(r.body());
        return new Result(r.status(), outputs, e.find() ? Integer.parseInt(e.group(1)) : 0, r.body());
    }

    static String unescape(String s) {
        return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&");
    }
}
