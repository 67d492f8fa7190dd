package io.natgw.it.dataplane;

import io.natgw.it.support.Require;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The namespace topology the gateway tests stand on does what its javadoc says, before natgw is involved: IPv4 from
 * the WAN reaches only the gateway (without NAT, LAN hosts cannot be answered from the WAN), IPv6 is routed end to end, addresses are usable at once (no DAD wait), and
 * close() removes the namespaces.
 */
class TopologyTest {

    @BeforeEach
    void prerequisites() {
        Require.netns();
        Require.tool("ping");
    }

    @Test
    void ipv4_reaches_the_gateway_but_not_the_lan_from_the_wan_and_ipv6_is_routed_both_ways() throws Exception {
        String lan;
        try (Topology t = new Topology()) {
            lan = t.lan;
            assertEquals(0, t.exec(t.lan, "ping", "-c1", "-W2", Topology.GW_WAN).exit(), "lan -> the gateway's WAN address");
            assertEquals(0, t.exec(t.wan, "ping", "-c1", "-W2", Topology.GW_WAN).exit(), "wan -> the gateway's WAN address");
            assertNotEquals(0, t.exec(t.wan, "ping", "-c1", "-W1", Topology.LAN_A).exit(), "wan has no IPv4 route to the lan");
            assertEquals(0, t.exec(t.lan, "ping", "-6", "-c1", "-W2", Topology.WAN_HOST6).exit(), "lan -> wan over IPv6");
            assertEquals(0, t.exec(t.wan, "ping", "-6", "-c1", "-W2", Topology.LAN_B6).exit(), "wan -> lan over IPv6");
            String addrs = t.exec(t.lan, "ip", "-6", "addr", "show", "dev", "lan0").output();
            assertTrue(addrs.contains("fe80::"), addrs);
            assertFalse(addrs.contains("tentative"), "no address waits for DAD: " + addrs);
        }
        assertFalse(Topology.run(null, "ip", "netns", "list").output().contains(lan), "namespaces removed on close");
    }
}
