package io.natgw.conf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CidrTest {

    private static boolean in(String cidr, String address) {
        return Cidr.parse(cidr).contains(Addresses.parseLiteral(address));
    }

    @Test
    void containment() {
        assertTrue(in("192.168.77.0/24", "192.168.77.0"));
        assertTrue(in("192.168.77.0/24", "192.168.77.255"));
        assertFalse(in("192.168.77.0/24", "192.168.78.1"));
        assertFalse(in("192.168.77.0/24", "192.168.76.255"));
        assertTrue(in("127.0.0.0/8", "127.0.1.1"));
        assertTrue(in("0.0.0.0/0", "203.0.113.7"));
        assertTrue(in("10.1.2.3", "10.1.2.3"));
        assertFalse(in("10.1.2.3", "10.1.2.4"));
        assertTrue(in("192.168.77.128/25", "192.168.77.200"));
        assertFalse(in("192.168.77.128/25", "192.168.77.127"));
        assertTrue(in("203.0.113.5/30", "203.0.113.7")); // host bits are masked: 203.0.113.4/30
        assertFalse(in("203.0.113.5/30", "203.0.113.8"));
        assertTrue(in("fd00::/8", "fd12::1"));
        assertFalse(in("fd00::/8", "fe80::1"));
        assertFalse(in("0.0.0.0/0", "::1")); // families never match
        assertEquals("203.0.113.4/30", Cidr.parse("203.0.113.5/30").toString());
    }

    @Test
    void rejectsBadBlocksWithoutResolvingNames() {
        assertEquals("'10.0.0.0/33' is not a CIDR block (accepted: address/0-32, e.g. 192.168.77.0/24)",
                assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.0.0.0/33")).getMessage());
        assertEquals("'10.0.0.0/-1' is not a CIDR block (accepted: address/0-32, e.g. 192.168.77.0/24)",
                assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.0.0.0/-1")).getMessage());
        assertEquals("'::/129' is not a CIDR block (accepted: address/0-128, e.g. 192.168.77.0/24)",
                assertThrows(IllegalArgumentException.class, () -> Cidr.parse("::/129")).getMessage());
        assertEquals("'localhost' is not an IP address literal (accepted: IPv4 or IPv6 literals such as 192.168.77.1"
                        + " or ::1; host names are never resolved)",
                assertThrows(IllegalArgumentException.class, () -> Cidr.parse("localhost/8")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("1.2.3/24"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("1.2.3.4.5/24"));
    }
}
