package io.natgw.it.igd;

import io.natgw.igd.Descriptions;
import io.natgw.igd.RawHttp;
import io.natgw.igd.Soap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutation fuzzing of the daemon's UPnP side: 12 000 SOAP/HTTP requests and 10 000 SSDP datagrams derived
 * from valid ones by seeded byte-level mutations (WANIPConnection:1 and :2, WANIPv6FirewallControl:1, descriptions,
 * GENA). Every seed is a request that cannot change the table even
 * when valid (mapping for a foreign host under secure mode, deleting another client's row, reads), so the
 * table must be exactly as before; the daemon must stay up, answer, log no stack trace, and keep its memory.
 */
class IgdFuzzE2eTest {

    private static final String FIREWALL = "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1";
    private static final long SEED = 0x6e617467L; // "natg": fixed, so a failure replays
    private static final int SOAP_REQUESTS = 12_000;
    private static final int SSDP_DATAGRAMS = 10_000;
    private static final InetAddress A = IgdDaemon.address("127.0.0.1");
    private static final InetAddress B = IgdDaemon.address("127.0.0.2");
    private static IgdDaemon gw;

    @BeforeAll
    static void start() throws Exception {
        gw = IgdDaemon.start(true);
        Soap.Result held = gw.soap(1).callFrom(B, "AddPortMapping", "NewRemoteHost", "", "NewExternalPort", "44001",
                "NewProtocol", "TCP", "NewInternalPort", "44001", "NewInternalClient", "127.0.0.2", "NewEnabled", "1",
                "NewPortMappingDescription", "held by B", "NewLeaseDuration", "3600");
        assertEquals(0, held.errorCode(), held.body());
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    private static String envelope(String service, String action, String args) {
        return "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                + "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:" + action + " xmlns:u=\""
                + service + "\">" + args + "</u:" + action + "></s:Body></s:Envelope>";
    }

    private static byte[] soap(URI control, String service, String action, String args) {
        byte[] body = envelope(service, action, args).getBytes(StandardCharsets.UTF_8);
        String head = "POST " + control.getRawPath() + " HTTP/1.1\r\nHost: 127.0.0.1:" + control.getPort()
                + "\r\nContent-Type: text/xml; charset=\"utf-8\"\r\nSOAPAction: \"" + service + "#" + action
                + "\"\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
        return concat(head.getBytes(StandardCharsets.US_ASCII), body);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Valid requests that leave the table as it is, from 127.0.0.1. */
    private static List<byte[]> seeds() {
        List<byte[]> s = new ArrayList<>();
        for (int v = 1; v <= 2; v++) {
            String svc = "urn:schemas-upnp-org:service:WANIPConnection:" + v;
            URI control = gw.control(v);
            s.add(soap(control, svc, "AddPortMapping", "<NewRemoteHost></NewRemoteHost><NewExternalPort>44100</NewExternalPort>"
                    + "<NewProtocol>TCP</NewProtocol><NewInternalPort>44100</NewInternalPort><NewInternalClient>10.9.9.9"
                    + "</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>fuzz</NewPortMappingDescription>"
                    + "<NewLeaseDuration>60</NewLeaseDuration>"));
            s.add(soap(control, svc, "DeletePortMapping", "<NewRemoteHost></NewRemoteHost><NewExternalPort>44001</NewExternalPort>"
                    + "<NewProtocol>TCP</NewProtocol>"));
            s.add(soap(control, svc, "GetGenericPortMappingEntry", "<NewPortMappingIndex>0</NewPortMappingIndex>"));
            s.add(soap(control, svc, "GetSpecificPortMappingEntry", "<NewRemoteHost></NewRemoteHost>"
                    + "<NewExternalPort>44001</NewExternalPort><NewProtocol>TCP</NewProtocol>"));
            s.add(soap(control, svc, "SetConnectionType", "<NewConnectionType>IP_Routed</NewConnectionType>"));
            s.add(soap(control, svc, "GetStatusInfo", ""));
            String desc = (v == 1 ? gw.v1 : gw.v2).getRawPath();
            s.add(("GET " + desc + " HTTP/1.1\r\nHost: 127.0.0.1:" + gw.httpPort + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            s.add(("SUBSCRIBE " + desc.replace("/desc", "/svc/upnp-org/WANIPConn1/event") + " HTTP/1.1\r\nHost: 127.0.0.1:"
                    + gw.httpPort + "\r\nCALLBACK: <http://10.9.9.9:1/cb>\r\nNT: upnp:event\r\nTIMEOUT: Second-60\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        }
        URI v2 = gw.control(2);
        String svc2 = "urn:schemas-upnp-org:service:WANIPConnection:2";
        s.add(soap(v2, svc2, "DeletePortMappingRange", "<NewStartPort>44000</NewStartPort><NewEndPort>44010</NewEndPort>"
                + "<NewProtocol>TCP</NewProtocol><NewManage>1</NewManage>"));
        s.add(soap(v2, svc2, "GetListOfPortMappings", "<NewStartPort>1</NewStartPort><NewEndPort>65535</NewEndPort>"
                + "<NewProtocol>TCP</NewProtocol><NewManage>1</NewManage><NewNumberOfPorts>10</NewNumberOfPorts>"));
        s.add(soap(v2, svc2, "AddAnyPortMapping", "<NewRemoteHost></NewRemoteHost><NewExternalPort>0</NewExternalPort>"
                + "<NewProtocol>UDP</NewProtocol><NewInternalPort>44200</NewInternalPort><NewInternalClient>10.9.9.9"
                + "</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>fuzz</NewPortMappingDescription>"
                + "<NewLeaseDuration>0</NewLeaseDuration>"));
        // WANIPv6FirewallControl:1 (IGD:2): the daemon here forwards no pinhole, and the internal host is foreign
        URI fc;
        try {
            fc = Descriptions.controlUrl(gw.v2, FIREWALL);
        } catch (Exception e) {
            throw new IllegalStateException("no WANIPv6FirewallControl:1 in IGD:2: " + e, e);
        }
        s.add(soap(fc, FIREWALL, "AddPinhole", "<RemoteHost></RemoteHost><RemotePort>0</RemotePort>"
                + "<InternalClient>fd00:77::10</InternalClient><InternalPort>44300</InternalPort><Protocol>6</Protocol>"
                + "<LeaseTime>3600</LeaseTime>"));
        s.add(soap(fc, FIREWALL, "AddPinhole", "<RemoteHost>2001:db8:113::2</RemoteHost><RemotePort>443</RemotePort>"
                + "<InternalClient>fd00:77::10</InternalClient><InternalPort>44301</InternalPort><Protocol>17</Protocol>"
                + "<LeaseTime>86400</LeaseTime>"));
        s.add(soap(fc, FIREWALL, "UpdatePinhole", "<UniqueID>1</UniqueID><NewLeaseTime>60</NewLeaseTime>"));
        s.add(soap(fc, FIREWALL, "DeletePinhole", "<UniqueID>1</UniqueID>"));
        s.add(soap(fc, FIREWALL, "GetPinholePackets", "<UniqueID>1</UniqueID>"));
        s.add(soap(fc, FIREWALL, "CheckPinholeWorking", "<UniqueID>1</UniqueID>"));
        s.add(soap(fc, FIREWALL, "GetFirewallStatus", ""));
        s.add(soap(fc, FIREWALL, "GetOutboundPinholeTimeout", "<RemoteHost></RemoteHost><RemotePort>0</RemotePort>"
                + "<InternalClient>fd00:77::10</InternalClient><InternalPort>44300</InternalPort><Protocol>6</Protocol>"));
        return s;
    }

    private static final byte[][] TOKENS = {
            "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>".getBytes(StandardCharsets.US_ASCII),
            "&e;".getBytes(StandardCharsets.US_ASCII), "<".getBytes(StandardCharsets.US_ASCII),
            "]]>".getBytes(StandardCharsets.US_ASCII), "\r\n".getBytes(StandardCharsets.US_ASCII),
            "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), "99999999999999999999".getBytes(StandardCharsets.US_ASCII),
            "-1".getBytes(StandardCharsets.US_ASCII), "%00".getBytes(StandardCharsets.US_ASCII), {0}, {(byte) 0xff, (byte) 0xfe},
            "Content-Length: 999999\r\n".getBytes(StandardCharsets.US_ASCII),
            "Transfer-Encoding: chunked\r\n".getBytes(StandardCharsets.US_ASCII),
            "Host: evil.example\r\n".getBytes(StandardCharsets.US_ASCII),
    };

    static byte[] mutate(byte[] in, Random r) {
        byte[] b = in.clone();
        int n = 1 + r.nextInt(4);
        for (int i = 0; i < n && b.length > 0; i++) {
            int at = r.nextInt(b.length);
            switch (r.nextInt(6)) {
                case 0 -> b[at] = (byte) r.nextInt(256);
                case 1 -> b[at] ^= (byte) (1 << r.nextInt(8));
                case 2 -> {
                    int len = Math.min(b.length - at, 1 + r.nextInt(32));
                    byte[] out = new byte[b.length - len];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(b, at + len, out, at, b.length - at - len);
                    b = out;
                }
                case 3 -> b = insert(b, at, TOKENS[r.nextInt(TOKENS.length)]);
                case 4 -> {
                    int len = Math.min(b.length - at, 1 + r.nextInt(64));
                    byte[] dup = new byte[len];
                    System.arraycopy(b, at, dup, 0, len);
                    b = insert(b, at, dup);
                }
                default -> b = java.util.Arrays.copyOf(b, at);
            }
        }
        return b;
    }

    private static byte[] insert(byte[] b, int at, byte[] what) {
        byte[] out = new byte[b.length + what.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(what, 0, out, at, what.length);
        System.arraycopy(b, at, out, at + what.length, b.length - at);
        return out;
    }

    /** Every row, as GetGenericPortMappingEntry lists them. */
    private static List<String> rows() throws IOException {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            Soap.Result r = gw.soap(1).callFrom(A, "GetGenericPortMappingEntry", "NewPortMappingIndex", Integer.toString(i));
            if (r.errorCode() == 713) {
                return out;
            }
            assertEquals(200, r.status(), r.body());
            out.add(r.outputs().get("NewProtocol") + " " + r.outputs().get("NewExternalPort") + " "
                    + r.outputs().get("NewInternalClient") + ":" + r.outputs().get("NewInternalPort") + " "
                    + r.outputs().get("NewEnabled") + " " + r.outputs().get("NewPortMappingDescription"));
        }
        return out;
    }

    private static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + gw.daemon.pid() + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IllegalStateException("no VmRSS for the daemon");
    }

    private static long stackTraceLines() {
        return gw.daemon.log().lines().filter(l -> l.startsWith("\tat ") || l.contains("Exception:")).count();
    }

    @Test
    void mutatedRequestsChangeNothingAndCrashNothing() throws Exception {
        List<String> before = rows();
        long tracesBefore = stackTraceLines();
        List<byte[]> seeds = seeds();
        URI target = gw.control(1);
        AtomicInteger answered = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> jobs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Random r = new Random(SEED + t);
                jobs.add(pool.submit(() -> {
                    for (int i = 0; i < SOAP_REQUESTS / 4; i++) {
                        byte[] req = mutate(seeds.get(r.nextInt(seeds.size())), r);
                        RawHttp.Response reply = RawHttp.exchange(target, A, req, true);
                        if (reply.status() != 0) {
                            answered.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : jobs) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        fuzzSsdp();

        assertTrue(gw.daemon.alive(), "the daemon survived");
        assertEquals("127.0.1.1", gw.soap(2).callFrom(A, "GetExternalIPAddress").outputs().get("NewExternalIPAddress"));
        assertEquals(before, rows(), "the table is unchanged");
        assertFalse(gw.daemon.log().contains("opened pinhole"), "no pinhole was opened:\n" + gw.daemon.logTail());
        Soap.Result firewall = new Soap(Descriptions.controlUrl(gw.v2, FIREWALL), FIREWALL).callFrom(A, "GetFirewallStatus");
        assertEquals("0", firewall.outputs().get("FirewallEnabled"), "the firewall service still answers: " + firewall);
        assertEquals(tracesBefore, stackTraceLines(), "no stack trace for clients' bad requests:\n" + gw.daemon.logTail());
        assertTrue(answered.get() > SOAP_REQUESTS / 2, "most mutated requests got an HTTP answer: " + answered.get());
        long rss = rssKb();
        assertTrue(rss < 700_000, "daemon RSS " + rss + " kB stays bounded (heap capped at 256 MB)");
    }

    private static void fuzzSsdp() throws IOException {
        byte[] search = ("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n"
                + "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSER-AGENT: fuzz\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] notify = ("NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n"
                + "USN: uuid:fuzz::upnp:rootdevice\r\nLOCATION: http://127.0.0.9:1/desc\r\nCACHE-CONTROL: max-age=60\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        Random r = new Random(SEED ^ 0x55);
        try (MulticastSocket s = new MulticastSocket(0)) {
            s.setNetworkInterface(NetworkInterface.getByInetAddress(A));
            for (int i = 0; i < SSDP_DATAGRAMS; i++) {
                byte[] d = mutate(r.nextBoolean() ? search : notify, r);
                // unicast to our port 1900 on loopback (multicast would reach other runs' daemons too)
                s.send(new DatagramPacket(d, Math.min(d.length, 1400), A, 1900));
            }
        }
    }
}
