package io.natgw.igd;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The test SOAP caller counts only an HTTP 200 answer as success: refusals and dropped connections fail. */
class SoapTest {

    private static final String SERVICE = "urn:schemas-upnp-org:service:WANIPConnection:1";

    /** One connection to a loopback server that reads the request and answers {@code reply} (null: closes). */
    private static Soap.Result answeredWith(String reply) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try (Socket c = server.accept()) {
                    readHead(c.getInputStream());
                    if (reply != null) {
                        c.getOutputStream().write(reply.getBytes(StandardCharsets.UTF_8));
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            URI control = URI.create("http://127.0.0.1:" + server.getLocalPort() + "/ctl/IPConn");
            Soap.Result r = new Soap(control, SERVICE).call("GetExternalIPAddress");
            served.get(30, TimeUnit.SECONDS);
            return r;
        }
    }

    private static void readHead(InputStream in) throws IOException {
        int matched = 0;
        for (int b; matched < 4 && (b = in.read()) >= 0; ) {
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
    }

    private static String http(int status, String reason, String body) {
        return "HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: text/xml\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\nConnection: close\r\n\r\n" + body;
    }

    private static final String ANSWER = "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">"
            + "<s:Body><u:GetExternalIPAddressResponse xmlns:u=\"" + SERVICE + "\"><NewExternalIPAddress>203.0.113.1"
            + "</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>";

    @Test
    void a200AnswerIsSuccessWithItsOutputs() throws Exception {
        Soap.Result r = answeredWith(http(200, "OK", ANSWER));
        assertTrue(r.ok(), r.toString());
        assertEquals(0, r.errorCode());
        assertEquals(Map.of("NewExternalIPAddress", "203.0.113.1"), r.outputs());
    }

    @Test
    void aUpnpErrorIsItsCode() throws Exception {
        Soap.Result r = answeredWith(http(500, "Internal Server Error", "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">"
                + "<s:Body><s:Fault><detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>718</errorCode>"
                + "</UPnPError></detail></s:Fault></s:Body></s:Envelope>"));
        assertFalse(r.ok());
        assertEquals(718, r.errorCode());
    }

    @Test
    void forbiddenNotFoundAndAClosedConnectionAreFailures() throws Exception {
        // bodies without <errorCode>, and one that even carries output-like elements
        for (String reply : new String[] {http(403, "Forbidden", ""), http(404, "Not Found", ANSWER),
                http(503, "Service Unavailable", "busy"), null, "garbage\r\n\r\n"}) {
            Soap.Result r = answeredWith(reply);
            assertFalse(r.ok(), String.valueOf(reply));
            assertEquals(Soap.Result.NOT_UPNP, r.errorCode(), String.valueOf(reply));
            assertEquals(Map.of(), r.outputs(), "no outputs from a failed call");
        }
    }
}
