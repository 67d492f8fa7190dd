package io.natgw.it.hardening;

import io.natgw.it.support.Daemon;
import io.natgw.it.support.NatPmpProbe;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 10's LAN-side exhaustion against the real daemon: one host sends NAT-PMP mapping requests from every address
 * of its /24 (254 source addresses, 5 requests each, as a host spoofing its neighbours would). The per-address quota
 * alone would let that subnet hold 254 × 64 mappings; {@code limits.perSubnetQuota} (256 by default) bounds it, every
 * request over it is refused with NAT-PMP's result 4 (out of resources), and a client on another subnet is still
 * granted its mapping (its latency is printed; only a ceiling that catches a hang is asserted) while the daemon's
 * descriptors stay below its limit.
 */
class SpoofedSourceFloodTest {

    /** The shipped default of {@code limits.perSubnetQuota}. */
    static final int SUBNET_QUOTA = 256;
    static final int PER_SOURCE = 5;
    /** NAT-PMP result code 4, RFC 6886 §3.5. */
    static final int OUT_OF_RESOURCES = 4;

    @Test
    void twoHundredFiftyFourSourcesOfOneSubnetAreBoundedByTheSubnetQuotaAndAnotherSubnetIsStillServed() throws Exception {
        int n = ThreadLocalRandom.current().nextInt(20, 60);
        InetAddress lan = InetAddress.getByName("127.0.0." + n);
        InetAddress wan = InetAddress.getByName("127.1." + n + ".1"); // outside the clients' 127.0.0.0/16
        int attackerSubnet = 100 + n;
        InetAddress legitimate = InetAddress.getByName("127.0." + (attackerSubnet + 1) + ".7");
        try (Daemon d = Daemon.builder()
                .set("network.lan.addresses", List.of(lan.getHostAddress()))
                .set("network.lan.clients", List.of("127.0.0.0/16"))
                .set("network.wan.address", wan.getHostAddress())
                .set("upnp.enabled", false)
                .set("admin.enabled", false)
                .set("dataplane.enabled", false) // the table's budgets are under test, not the relays
                .set("triggers", List.of())
                .start()) {
            long limit = WanFloodTest.openFilesLimit(d.pid());
            Map<Integer, Integer> results = new TreeMap<>();
            List<Integer> granted = new ArrayList<>();
            for (int host = 1; host <= 254; host++) {
                InetAddress from = InetAddress.getByName("127.0." + attackerSubnet + "." + host);
                for (int i = 0; i < PER_SOURCE; i++) {
                    int internal = 20_000 + host * PER_SOURCE + i;
                    NatPmpProbe.Reply r = NatPmpProbe.request(from, lan, NatPmpProbe.map(1, internal, internal, 3600));
                    results.merge(r.result(), 1, Integer::sum);
                    if (r.result() == 0) {
                        granted.add(r.externalPort());
                    }
                }
            }
            assertEquals(Map.of(0, SUBNET_QUOTA, OUT_OF_RESOURCES, 254 * PER_SOURCE - SUBNET_QUOTA), results,
                    "results by NAT-PMP code: the subnet holds exactly its quota, the rest is refused");
            assertEquals(SUBNET_QUOTA, granted.stream().distinct().count(), "each grant is its own port");

            long start = System.nanoTime();
            NatPmpProbe.Reply served = NatPmpProbe.request(legitimate, lan, NatPmpProbe.map(1, 40_000, 40_000, 3600));
            long micros = (System.nanoTime() - start) / 1000;
            System.out.printf("SpoofedSourceFloodTest: a client of another subnet answered in %.2f ms after %d requests"
                    + " from 254 sources of one subnet%n", micros / 1000.0, 254 * PER_SOURCE);
            assertEquals(0, served.result(), "a client of another subnet is granted: " + served);
            long fds = WanFloodTest.fds(d.pid());
            assertTrue(fds < limit / 2, "the daemon holds " + fds + " descriptors of its " + limit);
            assertTrue(d.alive(), "the daemon is still running");
            assertTrue(!d.log().contains("\tat "), "no stack trace in the log:\n" + d.logTail());
        }
    }
}
