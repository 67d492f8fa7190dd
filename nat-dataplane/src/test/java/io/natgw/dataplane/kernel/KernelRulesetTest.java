package io.natgw.dataplane.kernel;

import io.natgw.conf.PortRanges;
import io.natgw.conf.Protocol;
import io.natgw.conf.TriggerRule;
import io.natgw.core.RemoteFilter;
import io.natgw.dataplane.kernel.KernelRuleset.Element;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The text natgw hands to nftables (the namespace tests show the kernel acting on it). */
class KernelRulesetTest {

    static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void anElementChangeDeletesByKeyThenAddsDnatMarkAndCounters() throws Exception {
        Element old = new Element(Protocol.TCP, 8080, RemoteFilter.ANY, ip("192.168.77.10"), 80, 0x80000001L);
        Element filtered = new Element(Protocol.UDP, 9000, new RemoteFilter(ip("203.0.113.0"), 24, 0),
                ip("192.168.77.11"), 9000, 0x80000002L);
        Element peer = new Element(Protocol.TCP, 9001, new RemoteFilter(ip("203.0.113.2"), 32, 5000),
                ip("192.168.77.11"), 9001, 0x80000003L);

        assertEquals("""
                delete element inet natgw dnat4 { tcp . 8080 }
                delete element inet natgw mark4 { tcp . 8080 }
                delete element inet natgw rx { 0x80000001 }
                delete element inet natgw tx { 0x80000001 }
                add element inet natgw fdnat4 { 203.0.113.0/24 . 0-65535 . udp . 9000 : 192.168.77.11 . 9000, \
                203.0.113.2 . 5000 . tcp . 9001 : 192.168.77.11 . 9001 }
                add element inet natgw fmark4 { 203.0.113.0/24 . 0-65535 . udp . 9000 : 0x80000002, \
                203.0.113.2 . 5000 . tcp . 9001 : 0x80000003 }
                add element inet natgw rx { 0x80000002, 0x80000003 }
                add element inet natgw tx { 0x80000002, 0x80000003 }
                """, KernelRuleset.changes(List.of(old), List.of(filtered, peer)));
    }

    @Test
    void aWriterBatchLeavesTheRemovedElementsCountersUnlessTheirMarksAreRetiredInIt() throws Exception {
        Element old = new Element(Protocol.TCP, 8080, RemoteFilter.ANY, ip("192.168.77.10"), 80, 0x80001f90L, true);
        Element back = new Element(Protocol.UDP, 9000, RemoteFilter.ANY, ip("192.168.77.11"), 9000, 0x80012328L);

        assertEquals("""
                delete element inet natgw dnat4 { tcp . 8080 }
                delete element inet natgw mark4 { tcp . 8080 }
                delete element inet natgw trx { 0x80001f90 }
                """, KernelRuleset.changes(List.of(old), List.of(), List.of(), List.of(), List.of()),
                "a delete: forwarding (and the trigger renewal's counter) only; rx and tx wait for the retirement pass");
        assertEquals("""
                delete element inet natgw rx { 0x80012328 }
                delete element inet natgw tx { 0x80012328 }
                add element inet natgw dnat4 { udp . 9000 : 192.168.77.11 . 9000 }
                add element inet natgw mark4 { udp . 9000 : 0x80012328 }
                add element inet natgw rx { 0x80012328 }
                add element inet natgw tx { 0x80012328 }
                """, KernelRuleset.changes(List.of(), List.of(back), List.of(), List.of(), List.of(0x80012328L)),
                "a mark re-used before its retirement: the old counters go first, the new ones start from zero");
        assertEquals("", KernelRuleset.retire(List.of()));
    }

    @Test
    void readsTheElementsOfAListingInTheNotationItWrites() throws Exception {
        String listing = """
                table inet natgw {
                \tmap fdnat4 {
                \t\ttype ipv4_addr . inet_service . inet_proto . inet_service : ipv4_addr . inet_service
                \t\tflags interval
                \t\telements = { 203.0.113.0/24 . 0-65535 . udp . 9000 : 192.168.77.11 . 9000,
                \t\t\t     203.0.113.2 . 5000 . tcp . 9001 : 192.168.77.11 . 9001 }
                \t}
                }
                """;
        var elements = KernelRuleset.parseElements(listing);
        Element filtered = new Element(Protocol.UDP, 9000, new RemoteFilter(ip("203.0.113.0"), 24, 0),
                ip("192.168.77.11"), 9000, 1);
        assertEquals(filtered.dnatValue(), elements.get(filtered.key()));
        assertEquals("192.168.77.11 . 9001", elements.get("203.0.113.2 . 5000 . tcp . 9001"));
        assertEquals(2, elements.size());
        assertEquals(0, KernelRuleset.parseElements("table inet natgw {\n\tmap dnat4 {\n\t}\n}\n").size());
    }

    @Test
    void theTableReplacesAStaleOneInOneScriptWithHairpinAndTriggerPorts() throws Exception {
        TriggerRule irc = new TriggerRule("IRC IDENT", EnumSet.of(Protocol.TCP), PortRanges.parse("6660-7000"),
                EnumSet.of(Protocol.TCP), PortRanges.parse("113"), Duration.ofSeconds(300), true);
        TriggerRule off = new TriggerRule("Off", EnumSet.of(Protocol.UDP), PortRanges.parse("9000"),
                EnumSet.of(Protocol.UDP), PortRanges.parse("9001"), Duration.ofSeconds(300), false);
        String script = KernelRuleset.table(ip("203.0.113.1"), "eth0", List.of("eth1", "wlan0"), List.of(irc, off),
                List.of(new Element(Protocol.TCP, 8080, RemoteFilter.ANY, ip("192.168.77.10"), 80, 0x80000001L)));

        String comment = KernelRuleset.comment(ip("203.0.113.1"), "eth0", List.of("eth1", "wlan0"), true, false);
        assertTrue(comment.matches("natgw kernel forwarding [0-9a-f]{16}"), comment);
        assertTrue(script.startsWith("table inet natgw {}\ndelete table inet natgw\ntable inet natgw {\n"
                + "  comment \"" + comment + "\"\n"), script);
        assertTrue(!comment.equals(KernelRuleset.comment(ip("203.0.113.9"), "eth0", List.of("eth1", "wlan0"), true, false)),
                "another structure, another digest");
        assertTrue(script.contains("meta l4proto { tcp, udp } ip daddr 203.0.113.1 ct mark set meta l4proto . th dport map @mark4"
                + " dnat ip to meta l4proto . th dport map @dnat4\n"), script);
        String filteredFirst = "meta l4proto { tcp, udp } ip daddr 203.0.113.1 meta l4proto . th dport @fports ct mark set "
                + "ip saddr . th sport . meta l4proto . th dport map @fmark4 dnat ip to ip saddr . th sport . meta l4proto . "
                + "th dport map @fdnat4\n";
        assertTrue(script.indexOf(filteredFirst) > 0 && script.indexOf(filteredFirst) < script.indexOf("map @mark4"),
                "filtered mappings first, on the ports that have one only:\n" + script);
        assertTrue(!script.contains("counter name"), "no separate total counters on the packet path");
        assertTrue(script.contains("ct mark and 0x80000000 == 0x80000000 ct status dnat iifname { \"eth1\", \"wlan0\" } "
                + "oifname { \"eth1\", \"wlan0\" } masquerade\n"), "hairpin: LAN to LAN only");
        assertTrue(script.contains("iifname { \"eth1\", \"wlan0\" } oifname \"eth0\" ct state new tcp dport @trig_tcp "
                + "ct mark set 0x40000000 snat ip to 203.0.113.1\n"), script);
        assertTrue(script.contains("add element inet natgw trig_tcp { 6660-7000 }\n"), script);
        assertTrue(script.contains("add element inet natgw hold_tcp { 113 }\n"), script);
        assertTrue(!script.contains("9001") && !script.contains("{ 9000 }"), "a disabled rule has no ports");
        assertTrue(script.endsWith("add element inet natgw dnat4 { tcp . 8080 : 192.168.77.10 . 80 }\n"
                + "add element inet natgw mark4 { tcp . 8080 : 0x80000001 }\n"), "forwarding: two elements a mapping\n" + script);
    }

    @Test
    void aRestoreWritesTwoForwardingElementsAMappingThenTheCountersInATransactionOfTheirOwn() throws Exception {
        Element plain = new Element(Protocol.UDP, 5000, RemoteFilter.ANY, ip("192.168.77.10"), 5000,
                KernelRuleset.mark(Protocol.UDP, 5000));
        Element filtered = new Element(Protocol.TCP, 9001, new RemoteFilter(ip("203.0.113.2"), 32, 0),
                ip("192.168.77.11"), 9001, KernelRuleset.MAPPED | KernelRuleset.FILTERED_FIRST);
        assertEquals(0x80011388L, plain.mark(), "the mark of a mapping without a filter is its key");
        assertEquals(0x80001388L, KernelRuleset.mark(Protocol.TCP, 5000));

        String refill = KernelRuleset.refill(List.of(), List.of(plain, filtered));
        assertTrue(refill.startsWith("""
                flush map inet natgw dnat4
                flush map inet natgw mark4
                flush map inet natgw fdnat4
                flush map inet natgw fmark4
                flush map inet natgw pin6
                flush map inet natgw fpin6
                flush set inet natgw fports
                """), refill);
        assertTrue(refill.endsWith("""
                add element inet natgw dnat4 { udp . 5000 : 192.168.77.10 . 5000 }
                add element inet natgw mark4 { udp . 5000 : 0x80011388 }
                add element inet natgw fdnat4 { 203.0.113.2 . 0-65535 . tcp . 9001 : 192.168.77.11 . 9001 }
                add element inet natgw fmark4 { 203.0.113.2 . 0-65535 . tcp . 9001 : 0x80020000 }
                add element inet natgw fports { tcp . 9001 }
                """), refill);
        assertTrue(!refill.contains(" rx ") && !refill.contains(" tx "), "no counters in the forwarding transaction");
        assertEquals("""
                flush set inet natgw rx
                flush set inet natgw tx
                flush set inet natgw trx
                add element inet natgw rx { 0x80011388, 0x80020000 }
                add element inet natgw tx { 0x80011388, 0x80020000 }
                """, KernelRuleset.counters(List.of(plain, filtered)));
    }

    @Test
    void aPinholeIsAMarkElementKeyedByItsHostProtocolAndPortCountedLikeAMapping() throws Exception {
        Element open = new Element(Protocol.TCP, 8080, RemoteFilter.ANY, ip("fd00:77::10"), 8080,
                KernelRuleset.pinholeMark(7));
        Element peer = new Element(Protocol.UDP, 9000, new RemoteFilter(ip("2001:db8:113::2"), 128, 5000),
                ip("fd00:77::10"), 9000, KernelRuleset.pinholeMark(8));
        Element prefix = new Element(Protocol.TCP, 22, new RemoteFilter(ip("2001:db8:113::ff"), 64, 0),
                ip("fd00:77::11"), 22, KernelRuleset.pinholeMark(65535));
        assertEquals(0x90000007L, open.mark(), "a pinhole's mark is its id, beside the mapped and pinhole bits");
        assertEquals(0x9000ffffL, prefix.mark());

        assertEquals("""
                delete element inet natgw pin6 { fd00:77:0:0:0:0:0:10 . tcp . 8080 }
                delete element inet natgw pins { 0x90000007 }
                delete element inet natgw rx { 0x90000007 }
                delete element inet natgw tx { 0x90000007 }
                add element inet natgw fpin6 { 2001:db8:113:0:0:0:0:2 . 5000 . fd00:77:0:0:0:0:0:10 . udp . 9000 : 0x90000008, \
                2001:db8:113:0:0:0:0:0/64 . 0-65535 . fd00:77:0:0:0:0:0:11 . tcp . 22 : 0x9000ffff }
                add element inet natgw pins { 0x90000008, 0x9000ffff }
                add element inet natgw rx { 0x90000008, 0x9000ffff }
                add element inet natgw tx { 0x90000008, 0x9000ffff }
                """, KernelRuleset.changes(List.of(open), List.of(peer, prefix)), "no DNAT: a pinhole translates nothing");
        assertTrue(KernelRuleset.refill(List.of(), List.of(open)).endsWith(
                "add element inet natgw pin6 { fd00:77:0:0:0:0:0:10 . tcp . 8080 : 0x90000007 }\n"
                        + "add element inet natgw pins { 0x90000007 }\n"));
        assertThrows(IllegalArgumentException.class, () -> KernelRuleset.pinholeMark(0));
        assertThrows(IllegalArgumentException.class, () -> KernelRuleset.pinholeMark(65536));
    }

    @Test
    void theIpv6FirewallDropsNewInboundFlowsToTheLanAfterThePinholesAndLetsNeededIcmpv6Through() throws Exception {
        String on = KernelRuleset.table(ip("203.0.113.1"), "eth0", List.of("eth1"), true, false, List.of(), List.of());
        String off = KernelRuleset.table(ip("203.0.113.1"), "eth0", List.of("eth1"), false, false, List.of(), List.of());
        String cut = KernelRuleset.table(ip("203.0.113.1"), "eth0", List.of("eth1"), true, true, List.of(), List.of());
        String dropRemoved = "ct mark and 0x90000000 == 0x90000000 ct state established ct mark != @pins drop\n";
        assertTrue(cut.contains(dropRemoved) && cut.indexOf(dropRemoved) < cut.indexOf("0x90000000 accept"),
                "cutOnDelete: a removed pinhole's flows are dropped\n" + cut);
        assertTrue(!on.contains(dropRemoved), "without cutOnDelete they finish on their own");
        String forward = on.substring(on.indexOf("chain forward"), on.indexOf("chain input"));
        String pinholes = "meta l4proto { tcp, udp } ct mark set ip6 daddr . meta l4proto . th dport map @pin6\n";
        String filtered = "ct mark set ip6 saddr . th sport . ip6 daddr . meta l4proto . th dport map @fpin6\n";
        String jump = "ct state new iifname \"eth0\" meta nfproto ipv6 jump pinholes\n";
        assertTrue(forward.contains(jump), forward);
        String chain = on.substring(on.indexOf("chain pinholes"), on.indexOf("chain forward"));
        String admit = "ct mark and 0x90000000 == 0x90000000 accept\n";
        String icmp = "iifname \"eth0\" meta nfproto ipv6 oifname { \"eth1\" } icmpv6 type { destination-unreachable, "
                + "packet-too-big, time-exceeded, parameter-problem, echo-request, echo-reply } accept\n";
        String drop = "iifname \"eth0\" meta nfproto ipv6 oifname { \"eth1\" } ct state invalid,new,untracked drop\n";
        for (String rule : List.of(admit, icmp, drop)) {
            assertTrue(forward.contains(rule), rule + " in\n" + forward);
        }
        assertTrue(chain.contains(pinholes) && chain.indexOf(pinholes) < chain.indexOf(filtered),
                "a filtered pinhole's mark wins:\n" + chain);
        assertTrue(forward.indexOf(jump) < forward.indexOf("ct mark @rx"), "the first packet is counted");
        assertTrue(forward.indexOf(admit) < forward.indexOf(icmp) && forward.indexOf(icmp) < forward.indexOf(drop),
                "pinholes and ICMPv6 before the drop");
        assertTrue(!off.contains("untracked drop"), "no drop of natgw's with the firewall off:\n" + off);
        assertTrue(off.contains(pinholes) && off.contains(jump) && off.contains(admit), "pinholes are marked and counted either way");
        assertTrue(!KernelRuleset.comment(ip("203.0.113.1"), "eth0", List.of("eth1"), true, false)
                .equals(KernelRuleset.comment(ip("203.0.113.1"), "eth0", List.of("eth1"), false, false)),
                "a stale table with the other firewall setting is replaced, not refilled");
    }

    @Test
    void aPortJoinsFportsWithItsFirstFilteredMappingAndLeavesWithItsLast() throws Exception {
        Element filtered = new Element(Protocol.UDP, 9000, new RemoteFilter(ip("203.0.113.0"), 24, 0),
                ip("192.168.77.11"), 9000, 0x80020001L);
        String script = KernelRuleset.changes(List.of(), List.of(filtered), List.of("tcp . 9001"), List.of("udp . 9000"));
        assertTrue(script.endsWith("""
                delete element inet natgw fports { tcp . 9001 }
                add element inet natgw fports { udp . 9000 }
                """), script);
        assertEquals(java.util.Set.of("udp . 9000"), KernelRuleset.filteredPorts(List.of(filtered,
                new Element(Protocol.TCP, 80, RemoteFilter.ANY, ip("192.168.77.10"), 80, 0x80000050L),
                new Element(Protocol.TCP, 81, new RemoteFilter(ip("2001:db8:113::2"), 128, 0), ip("fd00:77::10"), 81,
                        KernelRuleset.pinholeMark(1)))), "NAT mappings with a filter only, not pinholes");
    }
}
