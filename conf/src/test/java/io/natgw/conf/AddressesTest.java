package io.natgw.conf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Path;
import java.util.Collections;
import org.junit.jupiter.api.Test;

class AddressesTest {

    @Test
    void autoIsTheFirstNonLoopbackIpv4OrLoopback() throws Exception {
        NatgwConfig c = ConfigLoader.parse("network: { wan: { address: AUTO } }", Path.of("auto.yaml"));
        InetAddress wan = c.network().wanAddress();
        assertTrue(c.network().wanAuto());
        assertInstanceOf(Inet4Address.class, wan);
        assertEquals(Addresses.firstNonLoopbackIpv4(), wan);
        if (wan.isLoopbackAddress()) {
            assertEquals(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), wan);
        } else {
            NetworkInterface nif = NetworkInterface.getByInetAddress(wan);
            assertTrue(nif != null && nif.isUp() && !nif.isLoopback(), "auto picked " + wan + " on " + nif);
        }
        boolean hostHasOne = Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
                .filter(n -> isUpNonLoopback(n))
                .flatMap(n -> Collections.list(n.getInetAddresses()).stream())
                .anyMatch(a -> a instanceof Inet4Address && !a.isLoopbackAddress());
        assertEquals(hostHasOne, !wan.isLoopbackAddress());
    }

    @Test
    void aLiteralWanAddressIsNotAuto() throws Exception {
        NatgwConfig c = ConfigLoader.parse("network: { wan: { address: 203.0.113.1 } }", Path.of("wan.yaml"));
        assertEquals(Addresses.parseLiteral("203.0.113.1"), c.network().wanAddress());
        assertTrue(!c.network().wanAuto());
    }

    @Test
    void literalsOnly() {
        assertEquals("192.168.77.1", Addresses.parseLiteral(" 192.168.77.1 ").getHostAddress());
        assertEquals("0:0:0:0:0:0:0:1", Addresses.parseLiteral("::1").getHostAddress());
        for (String bad : new String[] {"localhost", "example.org", "256.1.1.1", "1.2.3", "", "1.2.3.4.5", "fe80::1%lo",
            ":::::::::"}) {
            assertThrows(IllegalArgumentException.class, () -> Addresses.parseLiteral(bad), bad);
        }
    }

    private static boolean isUpNonLoopback(NetworkInterface n) {
        try {
            return n.isUp() && !n.isLoopback();
        } catch (java.net.SocketException e) {
            return false;
        }
    }

    @Test
    void privateCgnatLoopbackAndLinkLocalAreNotPublic() {
        java.util.Map<String, String> kinds = new java.util.LinkedHashMap<>();
        for (String a : new String[] {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1",
                "100.127.255.254", "127.0.1.1", "169.254.1.1", "0.0.0.0", "::1", "fe80::1", "fd00:77::1",
                "172.32.0.1", "100.128.0.1", "100.63.255.255", "203.0.113.1", "198.51.100.7", "2001:db8:113::1"}) {
            kinds.put(a, Addresses.notPublic(Addresses.parseLiteral(a)).orElse("public"));
        }
        String cgnat = "CGNAT shared address space (RFC 6598, 100.64.0.0/10)";
        assertEquals(java.util.List.of("private (RFC 1918)", "private (RFC 1918)", "private (RFC 1918)",
                "private (RFC 1918)", cgnat, cgnat, "loopback", "link-local", "unspecified", "loopback", "link-local",
                "private (unique local, fc00::/7)", "public", "public", "public", "public", "public", "public"),
                java.util.List.copyOf(kinds.values()), kinds.toString());
    }

    @Test
    void allowPrivateAndReportedAddressAreRead() throws Exception {
        NatgwConfig absent = ConfigLoader.parse("network: { wan: { address: 10.0.0.2 } }", Path.of("a.yaml"));
        assertEquals(java.util.Optional.of("private (RFC 1918)"), absent.network().unreachable(absent.network().wanAddress()));
        NatgwConfig c = ConfigLoader.parse("network: { wan: { address: 10.0.0.2, allowPrivate: true,"
                + " reportedAddress: 198.51.100.7 } }", Path.of("b.yaml"));
        assertTrue(c.network().allowPrivate());
        assertEquals(Addresses.parseLiteral("198.51.100.7"), c.network().reported(c.network().wanAddress()));
        NatgwConfig told = ConfigLoader.parse("network: { wan: { address: 10.0.0.2, reportedAddress: 198.51.100.7 } }",
                Path.of("c.yaml"));
        assertEquals(java.util.Optional.empty(), told.network().unreachable(told.network().wanAddress()));
        NatgwConfig cgnat = ConfigLoader.parse("network: { wan: { address: 203.0.113.1, reportedAddress: 100.64.9.9 } }",
                Path.of("d.yaml"));
        assertEquals(java.util.Optional.of("CGNAT shared address space (RFC 6598, 100.64.0.0/10)"),
                cgnat.network().unreachable(cgnat.network().wanAddress()));
    }
}
