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
}
