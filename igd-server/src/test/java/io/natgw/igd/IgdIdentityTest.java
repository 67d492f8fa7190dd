package io.natgw.igd;

import io.natgw.conf.NatgwConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The UPnP identity (issue 15.3): UDNs generated once per data directory and kept (0600), or configured;
 * BOOTID.UPNP.ORG increased at every start and CONFIGID.UPNP.ORG following the description; the configured
 * description strings and the admin UI as presentationURL; search answers from the SSDP port.
 */
class IgdIdentityTest {

    private static final Pattern UDN = Pattern.compile("<UDN>uuid:([0-9a-f-]{36})</UDN>");

    private static NatgwConfig config(Path dataDir, NatgwConfig.Upnp upnp, NatgwConfig.Admin admin) {
        NatgwConfig b = TestGateway.config(true, 16);
        return new NatgwConfig(b.source(), b.network(), dataDir, b.pcp(), upnp, admin, b.limits(), b.permissions(),
                b.staticMappings(), b.triggers(), b.dataplane());
    }

    private static NatgwConfig config(Path dataDir) {
        NatgwConfig b = TestGateway.config(true, 16);
        return config(dataDir, b.upnp(), b.admin());
    }

    private static NatgwConfig.Upnp upnp(String friendlyName, String udn, String manufacturer, String model, String serial) {
        return new NatgwConfig.Upnp(true, 0, true, Duration.ofHours(2), Duration.ofDays(7), friendlyName, udn,
                manufacturer, model, serial);
    }

    private static int freeUdpPort() throws IOException {
        try (DatagramSocket probe = new DatagramSocket(0, TestGateway.LAN)) {
            return probe.getLocalPort();
        }
    }

    private static String description(TestGateway gw) throws IOException {
        RawHttp.Response r = RawHttp.get(gw.description(1), Map.of());
        assertEquals(200, r.status(), r.body());
        return r.body();
    }

    private static String rootUdn(TestGateway gw) throws IOException {
        Matcher m = UDN.matcher(description(gw));
        assertTrue(m.find());
        return m.group(1);
    }

    /** One unicast M-SEARCH to the gateway's SSDP port: the first answer's headers and the port it came from. */
    record Answer(Map<String, String> headers, int sourcePort) {
    }

    private static Answer search(int ssdpPort) throws IOException {
        String msg = "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n"
                + "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n";
        byte[] bytes = msg.getBytes(StandardCharsets.US_ASCII);
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(TestGateway.LAN, 0))) {
            s.setSoTimeout(30_000); // a ceiling that only catches a gateway that never answers
            s.send(new DatagramPacket(bytes, bytes.length, TestGateway.LAN, ssdpPort));
            byte[] buf = new byte[2048];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            s.receive(p);
            Map<String, String> h = new HashMap<>();
            for (String line : new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII).split("\r\n")) {
                int c = line.indexOf(':');
                if (c > 0) {
                    h.put(line.substring(0, c).trim().toUpperCase(Locale.ROOT), line.substring(c + 1).trim());
                }
            }
            return new Answer(h, p.getPort());
        }
    }

    @Test
    void twoDefaultInstallsHaveDifferentUdnsAndARestartKeepsItsOwn(@TempDir Path a, @TempDir Path b) throws Exception {
        String first;
        try (TestGateway gw = TestGateway.start(config(a), 0, TestLink.up())) {
            first = rootUdn(gw);
        }
        try (TestGateway gw = TestGateway.start(config(b), 0, TestLink.up())) {
            assertNotEquals(first, rootUdn(gw));
        }
        try (TestGateway gw = TestGateway.start(config(a), 0, TestLink.up())) {
            assertEquals(first, rootUdn(gw));
        }
        Path file = a.resolve(IgdIdentity.UDN_FILE);
        assertEquals(List.of(first, "rw-------"), List.of(Files.readString(file).trim(),
                PosixFilePermissions.toString(Files.getPosixFilePermissions(file))));
    }

    @Test
    void aConfiguredUdnIsTheRootsAndTheStringsAndPresentationUrlAreDescribed(@TempDir Path dir) throws Exception {
        String udn = "5f3c2a9e-1b7d-4c8e-9a6f-2d4b8e1c7a30";
        NatgwConfig.Admin admin = new NatgwConfig.Admin(true, List.of(TestGateway.LAN), 18443, false);
        try (TestGateway gw = TestGateway.start(config(dir, upnp("Home router", udn, "Acme Networks", "Acme X1", "SN-0042"),
                admin), 0, TestLink.up())) {
            assertEquals(udn, rootUdn(gw));
            String d = description(gw);
            for (String s : List.of("<manufacturer>Acme Networks</manufacturer>", "<modelName>Acme X1 InternetGatewayDevice",
                    "<serialNumber>SN-0042</serialNumber>", "<presentationURL>https://127.0.0.1:18443/</presentationURL>")) {
                assertTrue(d.contains(s), s + " in\n" + d);
            }
        }
    }

    @Test
    void searchAnswersComeFromTheSsdpPortWithBootIdRaisedAtRestartAndConfigIdFollowingTheDescription(@TempDir Path dir)
            throws Exception {
        int ssdpPort = freeUdpPort();
        Answer first;
        try (TestGateway gw = TestGateway.start(config(dir), ssdpPort, TestLink.up())) {
            first = search(ssdpPort);
        }
        Answer again;
        try (TestGateway gw = TestGateway.start(config(dir), ssdpPort, TestLink.up())) {
            again = search(ssdpPort);
        }
        NatgwConfig renamed = config(dir, upnp("renamed", "", "natgw", "natgw", ""), TestGateway.config(true, 16).admin());
        Answer third;
        try (TestGateway gw = TestGateway.start(renamed, ssdpPort, TestLink.up())) {
            third = search(ssdpPort);
        }
        assertEquals(List.of(ssdpPort, ssdpPort, ssdpPort), List.of(first.sourcePort(), again.sourcePort(), third.sourcePort()));
        long boot = Long.parseLong(first.headers().get("BOOTID.UPNP.ORG"));
        assertEquals(List.of(boot + 1, boot + 2), List.of(Long.parseLong(again.headers().get("BOOTID.UPNP.ORG")),
                Long.parseLong(third.headers().get("BOOTID.UPNP.ORG"))));
        String config = first.headers().get("CONFIGID.UPNP.ORG");
        assertTrue(config.matches("\\d{1,8}") && Integer.parseInt(config) <= 16777215, config);
        assertEquals(config, again.headers().get("CONFIGID.UPNP.ORG"));
        assertNotEquals(config, third.headers().get("CONFIGID.UPNP.ORG"));
    }
    /** UDA 1.1 section 1.2.2: an external address change is a new BOOTID (kept in the data directory), not only a restart. */
    @Test
    void anExternalAddressChangeRaisesBootIdAndKeepsIt(@TempDir Path dir) throws Exception {
        int ssdpPort = freeUdpPort();
        long before;
        try (TestGateway gw = TestGateway.start(config(dir), ssdpPort, TestLink.up())) {
            before = Long.parseLong(search(ssdpPort).headers().get("BOOTID.UPNP.ORG"));
            io.natgw.core.Outcome o = gw.table.apply(new io.natgw.core.MappingRequest.SetExternalAddress(
                    io.natgw.core.Owner.of(TestGateway.LAN, io.natgw.core.Origin.ADMIN), TestGateway.address("127.0.1.2")));
            assertTrue(o instanceof io.natgw.core.Outcome.Done, o.toString());
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(
                    () -> Long.parseLong(search(ssdpPort).headers().get("BOOTID.UPNP.ORG")) == before + 1);
            assertEquals(Long.toString(before + 1), Files.readString(dir.resolve(IgdIdentity.BOOTID_FILE)).trim());
            io.natgw.core.Outcome same = gw.table.apply(new io.natgw.core.MappingRequest.SetExternalAddress(
                    io.natgw.core.Owner.of(TestGateway.LAN, io.natgw.core.Origin.ADMIN), TestGateway.address("127.0.1.2")));
            assertTrue(same instanceof io.natgw.core.Outcome.Done, same.toString());
            assertEquals(before + 1, Long.parseLong(search(ssdpPort).headers().get("BOOTID.UPNP.ORG")), "the same address: no new boot");
        }
        try (TestGateway gw = TestGateway.start(config(dir), ssdpPort, TestLink.up())) {
            assertEquals(before + 2, Long.parseLong(search(ssdpPort).headers().get("BOOTID.UPNP.ORG")), "a restart goes on from it");
        }
    }
}
