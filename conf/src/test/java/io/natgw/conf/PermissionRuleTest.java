package io.natgw.conf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class PermissionRuleTest {

    private static final InetAddress LAN_HOST = Addresses.parseLiteral("192.168.77.10");
    private static final InetAddress OTHER_HOST = Addresses.parseLiteral("192.168.78.10");

    @Test
    void parsesMiniupnpdShape() {
        PermissionRule r = PermissionRule.parse("  DENY   22,80-81 192.168.77.0/24 0-65535 ");
        assertEquals(PermissionRule.Action.DENY, r.action());
        assertEquals(PortRanges.parse("22,80-81"), r.externalPorts());
        assertEquals(Cidr.parse("192.168.77.0/24"), r.internalAddresses());
        assertEquals(PortRanges.ALL, r.internalPorts());
        assertEquals("deny 22,80-81 192.168.77.0/24 0-65535", r.toString());
    }

    @Test
    void aRuleMatchesOnlyWhenAllThreePartsMatch() {
        PermissionRule r = PermissionRule.parse("allow 1024-2048 192.168.77.0/24 3000");
        assertTrue(r.matches(1024, LAN_HOST, 3000));
        assertFalse(r.matches(1023, LAN_HOST, 3000));
        assertFalse(r.matches(1024, OTHER_HOST, 3000));
        assertFalse(r.matches(1024, LAN_HOST, 3001));
    }

    @Test
    void firstMatchWinsAndNoMatchAllows() {
        List<PermissionRule> rules = List.of(
                PermissionRule.parse("deny 8080 192.168.77.10 0-65535"),
                PermissionRule.parse("allow 1024-65535 192.168.77.0/24 1024-65535"),
                PermissionRule.parse("deny 0-65535 192.168.77.0/24 0-65535"));
        assertFalse(PermissionRule.permits(rules, 8080, LAN_HOST, 8080), "the first rule denies before the allow");
        assertTrue(PermissionRule.permits(rules, 8081, LAN_HOST, 8081), "the second rule allows");
        assertFalse(PermissionRule.permits(rules, 80, LAN_HOST, 8080), "privileged external port: the last rule denies");
        assertTrue(PermissionRule.permits(rules, 80, OTHER_HOST, 80), "no rule matches: allowed");
        List<PermissionRule> reversed = List.of(rules.get(1), rules.get(0), rules.get(2));
        assertTrue(PermissionRule.permits(reversed, 8080, LAN_HOST, 8080), "order decides");
        assertTrue(PermissionRule.permits(List.of(), 1, LAN_HOST, 1));
    }

    @Test
    void theShippedRulesKeepPrivilegedPortsClosed() {
        List<PermissionRule> shipped = ConfigLoader.defaults().permissions();
        InetAddress client = Addresses.parseLiteral("127.0.0.1");
        assertTrue(PermissionRule.permits(shipped, 1024, client, 65535));
        assertFalse(PermissionRule.permits(shipped, 1023, client, 2000));
        assertFalse(PermissionRule.permits(shipped, 2000, client, 22));
        // and for IPv6 pinholes alike (a pinhole is checked with its port as both ports)
        InetAddress v6 = Addresses.parseLiteral("fd00:77::10");
        assertTrue(PermissionRule.permits(shipped, 1024, v6, 1024));
        assertFalse(PermissionRule.permits(shipped, 22, v6, 22));
    }

    @Test
    void ipv6RulesMatchIpv6HostsOnly() {
        List<PermissionRule> rules = List.of(PermissionRule.parse("deny 0-65535 fd00:77::/64 0-65535"),
                PermissionRule.parse("deny 0-65535 0.0.0.0/0 0-65535"));
        assertFalse(PermissionRule.permits(rules, 8080, Addresses.parseLiteral("fd00:77::10"), 8080));
        assertTrue(PermissionRule.permits(rules, 8080, Addresses.parseLiteral("fd00:78::10"), 8080),
                "no rule of its family: allowed");
        assertFalse(PermissionRule.permits(rules, 8080, Addresses.parseLiteral("192.168.77.10"), 8080));
        assertEquals("deny 0-65535 fd00:77:0:0:0:0:0:0/64 0-65535", rules.get(0).toString());
    }
}
