package io.natgw.igd;

import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SSDP abuse (issue 10): only LAN clients are answered, searches are rate-limited per source and in total,
 * one search gets at most two answers of bounded size, and the sockets are bound to the SSDP group and the LAN
 * addresses, not to every interface. The clock is fixed, so no token is refilled during a test.
 */
class IgdSsdpHardeningTest {

    private static final Clock FROZEN = Clock.fixed(Instant.parse("2026-12-06T12:00:00Z"), ZoneOffset.UTC);
    private static final String IGD1 = "urn:schemas-upnp-org:device:InternetGatewayDevice:1";

    private static int freePort() throws IOException {
        try (DatagramSocket probe = new DatagramSocket(0, TestGateway.LAN)) {
            return probe.getLocalPort();
        }
    }

    private static NatgwConfig clients(String cidr) {
        NatgwConfig b = TestGateway.config(true, 16);
        return new NatgwConfig(b.source(), new NatgwConfig.Network(b.network().lanAddresses(), List.of(Cidr.parse(cidr)),
                List.of(), b.network().wanAddress(), false, ""), b.dataDir(), b.pcp(), b.upnp(), b.admin(), b.limits(),
                b.permissions(), b.staticMappings(), b.triggers(), b.dataplane());
    }

    /** Sends {@code count} searches from {@code from} to {@code to}:port, returns the sizes of the answers that came back. */
    private static List<Integer> search(InetAddress from, InetAddress to, int port, String st, int count) throws IOException {
        byte[] bytes = ("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\nST: "
                + st + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        List<Integer> sizes = new ArrayList<>();
        try (MulticastSocket s = new MulticastSocket(new InetSocketAddress(from, 0))) {
            s.setNetworkInterface(NetworkInterface.getByInetAddress(TestGateway.LAN));
            s.setReceiveBufferSize(1 << 20);
            for (int i = 0; i < count; i++) {
                s.send(new DatagramPacket(bytes, bytes.length, to, port));
            }
            s.setSoTimeout(1000); // silence after the last answer: all that will come has come
            byte[] buf = new byte[4096];
            while (sizes.size() < 10 * count + 10) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    s.receive(p);
                } catch (SocketTimeoutException e) {
                    break;
                }
                if (new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200")) {
                    sizes.add(p.getLength());
                }
            }
        }
        return sizes;
    }

    private static final InetAddress GROUP = TestGateway.address("239.255.255.250");

    @Test
    void aSearchFromOutsideLanClientsGetsNoAnswer() throws Exception {
        int port = freePort();
        try (TestGateway gw = TestGateway.start(clients("127.0.0.1/32"), port, FROZEN)) {
            assertEquals(0, search(TestGateway.address("127.0.0.9"), GROUP, port, IGD1, 1).size(), "from 127.0.0.9");
            assertEquals(1, search(TestGateway.LAN, GROUP, port, IGD1, 1).size(), "from the LAN client 127.0.0.1");
        }
    }

    @Test
    void ssdpAllGetsAtMostTwoSmallAnswers() throws Exception {
        int port = freePort();
        try (TestGateway gw = TestGateway.start(TestGateway.config(true, 16), port, FROZEN)) {
            List<Integer> sizes = search(TestGateway.LAN, GROUP, port, "ssdp:all", 1);
            int total = sizes.stream().mapToInt(Integer::intValue).sum();
            System.out.println("ssdp:all: " + sizes.size() + " answers, " + total + " bytes");
            assertEquals(2, sizes.size(), "one answer per root device: " + sizes);
            assertTrue(total <= 1024, "at most 1 KiB for one search, got " + total);
        }
    }

    @Test
    void searchesAreRateLimitedPerSource() throws Exception {
        int port = freePort();
        try (TestGateway gw = TestGateway.start(TestGateway.config(true, 16), port, FROZEN)) {
            int n = SsdpLimiter.PER_SOURCE_BURST + 30;
            assertEquals(SsdpLimiter.PER_SOURCE_BURST, search(TestGateway.address("127.0.0.3"), GROUP, port, IGD1, n).size());
            assertEquals(1, search(TestGateway.address("127.0.0.4"), GROUP, port, IGD1, 1).size(), "another source still answered");
        }
    }

    @Test
    void searchesAreRateLimitedInTotal() throws Exception {
        int port = freePort();
        try (TestGateway gw = TestGateway.start(TestGateway.config(true, 16), port, FROZEN)) {
            int answered = 0;
            int sources = SsdpLimiter.TOTAL_BURST / SsdpLimiter.PER_SOURCE_BURST + 3;
            for (int i = 0; i < sources; i++) {
                answered += search(TestGateway.address("127.0.0." + (20 + i)), GROUP, port, IGD1,
                        SsdpLimiter.PER_SOURCE_BURST).size();
            }
            assertEquals(SsdpLimiter.TOTAL_BURST, answered, sources + " sources of " + SsdpLimiter.PER_SOURCE_BURST);
        }
    }

    @Test
    void theSocketsAreBoundToTheGroupAndTheLanAddressNotTheWildcard() throws Exception {
        int port = freePort();
        try (TestGateway gw = TestGateway.start(TestGateway.config(true, 16), port, FROZEN)) {
            assertEquals(1, search(TestGateway.LAN, TestGateway.LAN, port, IGD1, 1).size(), "unicast to the LAN address");
            // 127.0.0.2 is a local address but not a LAN address of the gateway: a wildcard socket would answer it
            assertEquals(0, search(TestGateway.LAN, TestGateway.address("127.0.0.2"), port, IGD1, 1).size(),
                    "unicast to another address of the host");
            try (DatagramSocket other = new DatagramSocket(null)) {
                other.setReuseAddress(false);
                other.bind(new InetSocketAddress(TestGateway.address("127.0.0.2"), port));
                assertTrue(other.isBound(), "the port is free on the host's other addresses");
            }
        }
    }
}
