package io.natgw.dataplane.kernel;

import io.natgw.conf.PortRange;
import io.natgw.conf.Protocol;
import io.natgw.conf.TriggerRule;
import io.natgw.core.Mapping;
import io.natgw.core.RemoteFilter;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The text of natgw's nftables table in kernel-forwarding mode, and of its element changes. Pure: no I/O.
 *
 * <pre>
 * table inet natgw                      comment "natgw kernel forwarding"
 *   map dnat4  (proto . port)                         : internal addr . port   mappings without a remote filter
 *   map mark4  (proto . port)                         : ct mark                (their connections' mark)
 *   map fdnat4 (remote addr/prefix . remote ports . proto . port) : ...        mappings with a remote filter
 *   map fmark4 (same key)                             : ct mark
 *   map pin6   (internal IPv6 addr . proto . port)    : ct mark                IPv6 pinholes without a remote filter
 *   map fpin6  (remote addr/prefix . remote ports . internal addr . proto . port) : ct mark   filtered pinholes
 *   set fports (proto . port)                         ports that have a mapping with a remote filter
 *   set pins (ct mark)                                the live pinholes' marks (cutOnDelete drops the others' flows)
 *   set rx, tx (ct mark, per-element counters)        bytes/packets per mapping or pinhole, WAN to LAN and LAN to WAN
 *                                                     (the totals are their sum, plus removed elements'; a
 *                                                     removed element's stay until the forwarder retires them)
 *   set trig_tcp, trig_udp (trigger ports), hold_tcp, hold_udp (their incoming ports)
 *   chain prerouting  nat dstnat-5:   ct mark set ... dnat to ... (filtered maps first, on @fports only)
 *   chain pinholes                    ct mark set by @pin6 / @fpin6 (a filtered pinhole's wins)
 *   chain forward     filter -5:      new IPv6 flows from the WAN: jump pinholes;
 *                                     count by ct mark and direction, accept natgw's flows (cutOnDelete: drop a
 *                                     removed pinhole's established flows: not in @pins); with the IPv6
 *                                     firewall on, drop other IPv6 from the WAN to the LAN that is not a reply (ICMPv6
 *                                     errors and echo pass, RFC 4890 4.3.1)
 *   chain input       filter -5:      drop (not refuse) new WAN flows to trigger incoming ports not mapped yet
 *   chain postrouting nat srcnat-5:   hairpin masquerade (LAN to LAN through a mapping);
 *                                     trigger flows: ct mark TRIGGER, snat to the WAN address (port kept when free)
 * </pre>
 */
public final class KernelRuleset {

    public static final String TABLE = "natgw";
    public static final String COMMENT = "natgw kernel forwarding";
    /** Marks of mapped connections have this bit; the id of the mapping is in the rest. */
    public static final long MAPPED = 0x80000000L;
    /** The mark of a LAN host's flow to a trigger port. */
    public static final long TRIGGER = 0x40000000L;
    /**
     * Marks of mappings with a remote filter start here (an id allocated by the forwarder); below it, the mark of a
     * mapping without one is its key: {@link #mark(Protocol, int)}.
     */
    public static final long FILTERED_FIRST = 1L << 17;
    /**
     * Marks of IPv6 pinholes have this bit (with {@link #MAPPED}); the pinhole's id (1-65535, kept by the table and
     * its journal) is in the low bits: {@link #pinholeMark(int)}. Filtered mappings' ids stay below it.
     */
    public static final long PINHOLE = 0x10000000L;
    /** ICMPv6 that IPv6 needs to work, passed from the WAN whatever the pinholes (RFC 4890 4.3.1). */
    static final String ICMPV6_NEEDED = "{ destination-unreachable, packet-too-big, time-exceeded, parameter-problem, "
            + "echo-request, echo-reply }";

    /**
     * The mark of a mapping without a remote filter: {@link #MAPPED}, bit 16 for UDP, the external port. A function of
     * the key, so a restart knows every mark without reading the previous run's table.
     */
    public static long mark(Protocol protocol, int port) {
        return MAPPED | (protocol == Protocol.UDP ? 1L << 16 : 0) | port;
    }

    /** The mark of the pinhole with this id: a function of the id, so a restart knows it without a listing. */
    public static long pinholeMark(int pinholeId) {
        if (pinholeId < 1 || pinholeId > 0xffff) {
            throw new IllegalArgumentException("pinhole id " + pinholeId + " (accepted: 1-65535)");
        }
        return MAPPED | PINHOLE | pinholeId;
    }

    private KernelRuleset() {
    }

    /** The forwarding of one mapping: its elements' keys and values. */
    public record Element(Protocol protocol, int port, RemoteFilter remote, InetAddress internal, int internalPort, long mark,
                          boolean triggered) {

        public Element(Protocol protocol, int port, RemoteFilter remote, InetAddress internal, int internalPort, long mark) {
            this(protocol, port, remote, internal, internalPort, mark, false);
        }

        static Element of(Mapping m, long mark) {
            return new Element(m.protocol(), m.externalPort(), m.remote(), m.internal().address(), m.internal().port(), mark,
                    m.kind() == io.natgw.core.Kind.TRIGGERED);
        }

        boolean filtered() {
            return !remote.isAny();
        }

        /** An IPv6 pinhole: no translation, only its ct mark (which the forward chain admits and counts). */
        boolean pinhole() {
            return internal instanceof Inet6Address;
        }

        String key() {
            String k = protocol.label() + " . " + port;
            if (pinhole()) {
                k = text(internal) + " . " + k;
            }
            if (!filtered()) {
                return k;
            }
            String addr;
            int full = pinhole() ? 128 : 32;
            if (remote.address() == null) {
                addr = pinhole() ? "::/0" : "0.0.0.0/0";
            } else if (remote.prefixLength() >= full) {
                addr = text(remote.address());
            } else {
                addr = masked(remote.address(), remote.prefixLength()) + "/" + remote.prefixLength();
            }
            String rport = remote.port() == 0 ? "0-65535" : Integer.toString(remote.port());
            return addr + " . " + rport + " . " + k;
        }

        String dnat() {
            return key() + " : " + dnatValue();
        }

        /** (protocol . port): the key of {@code fports}. */
        String portKey() {
            return protocol.label() + " . " + port;
        }

        String dnatValue() {
            return internal.getHostAddress() + " . " + internalPort;
        }

        String markValue() {
            return key() + " : " + hex(mark);
        }

        /**
         * The key as nf_tables holds it (each field of the concatenation in a 4-byte register, network order): null for
         * a filtered element (an interval key, left to libnftables).
         */
        byte[] keyBytes() {
            if (filtered()) {
                return null;
            }
            byte[] host = pinhole() ? internal.getAddress() : new byte[0];
            return java.nio.ByteBuffer.allocate(host.length + 8).put(host).put((byte) protocol.ianaNumber())
                    .put(new byte[3]).putShort((short) port).put(new byte[2]).array();
        }

        /** The DNAT value ({@code ipv4_addr . inet_service}) as nf_tables holds it. */
        byte[] dnatBytes() {
            return java.nio.ByteBuffer.allocate(8).put(internal.getAddress()).putShort((short) internalPort)
                    .put(new byte[2]).array();
        }

        /** The DNAT map of a NAT mapping; null for a pinhole (no translation). */
        String dnatMap() {
            return pinhole() ? null : filtered() ? "fdnat4" : "dnat4";
        }

        String markMap() {
            return pinhole() ? (filtered() ? "fpin6" : "pin6") : filtered() ? "fmark4" : "mark4";
        }
    }

    /** The forwarding maps, in the order a script writes them. */
    static final List<String> FORWARDING_MAPS = List.of("dnat4", "mark4", "fdnat4", "fmark4", "pin6", "fpin6");

    /**
     * Whether the kernel path can carry the mapping: a NAT mapping to an IPv4 host with an IPv4 remote filter, or an
     * IPv6 pinhole with an IPv6 remote filter.
     */
    static boolean carries(Mapping m) {
        InetAddress internal = m.internal().address();
        InetAddress remote = m.remote().address();
        if (internal instanceof Inet6Address) {
            return remote == null || remote instanceof Inet6Address;
        }
        return internal instanceof Inet4Address && (remote == null || remote instanceof Inet4Address);
    }

    /** An address as nft reads it (IPv6 without a zone). */
    static String text(InetAddress a) {
        try {
            return InetAddress.getByAddress(a.getAddress()).getHostAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    static String hex(long mark) {
        return "0x" + Long.toHexString(mark);
    }

    /** A ct mark as nf_tables holds it (the {@code mark} type is in host order). */
    static byte[] markBytes(long mark) {
        return java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.nativeOrder()).putInt((int) mark).array();
    }

    /**
     * A transaction's element commands, as nft's text and, while every element's key is a plain one, as the same
     * changes in nf_tables netlink messages ({@link NftNetlink}), set by set in the same order.
     */
    public static final class Transaction {
        private final StringBuilder text;
        private final List<NftNetlink.SetChange> changes = new ArrayList<>();
        private boolean netlink = true;

        Transaction() {
            this(new StringBuilder());
        }

        private Transaction(StringBuilder text) {
            this.text = text;
        }

        /** nft's script of the transaction (libnftables runs it; it is also what tests and logs see). */
        public String text() {
            return text.toString();
        }

        /** The same changes as netlink set element messages, or null if one of them has no plain key. */
        public List<NftNetlink.SetChange> netlinkChanges() {
            return netlink ? changes : null;
        }

        /** Text only from here on (fports, trigger sets: changes the netlink path does not carry). */
        void textOnly() {
            netlink = false;
        }

        void elements(String verb, String set, List<Element> list, java.util.function.Function<Element, String> text,
                      java.util.function.Function<Element, byte[]> key, java.util.function.Function<Element, byte[]> value) {
            KernelRuleset.elements(this.text, verb, set, list, text);
            if (!netlink) {
                return;
            }
            List<byte[]> keys = new ArrayList<>(list.size());
            List<byte[]> values = value == null ? null : new ArrayList<>(list.size());
            for (Element e : list) {
                byte[] k = key.apply(e);
                if (k == null) {
                    netlink = false;
                    return;
                }
                keys.add(k);
                if (values != null) {
                    values.add(value.apply(e));
                }
            }
            changes.add(new NftNetlink.SetChange(verb.equals("add"), set, keys, values));
        }
    }

    private static String masked(InetAddress a, int prefix) {
        byte[] b = a.getAddress();
        for (int i = 0; i < b.length; i++) {
            int bits = Math.max(0, Math.min(8, prefix - 8 * i));
            b[i] &= (byte) (bits == 0 ? 0 : 0xff << (8 - bits));
        }
        try {
            return text(InetAddress.getByAddress(b));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The whole table with its elements, replacing natgw's old one (a stale one left by a crash included) in one
     * transaction: an empty table is declared (so the delete never fails), deleted, and written again.
     */
    public static String table(InetAddress wan, String wanInterface, List<String> lanInterfaces,
                               List<TriggerRule> rules, Collection<Element> elements) {
        return table(wan, wanInterface, lanInterfaces, true, false, rules, elements);
    }

    /**
     * The whole table as {@link #table(InetAddress, String, List, List, Collection)}, with the IPv6 firewall
     * ({@code dataplane.ipv6Firewall}) on or off, and the drop of a removed pinhole's established flows
     * ({@code dataplane.cutOnDelete}).
     */
    public static String table(InetAddress wan, String wanInterface, List<String> lanInterfaces, boolean ipv6Firewall,
                               boolean cutOnDelete, List<TriggerRule> rules, Collection<Element> elements) {
        String body = body(wan, wanInterface, lanInterfaces, ipv6Firewall, cutOnDelete);
        StringBuilder sb = new StringBuilder();
        sb.append("table inet ").append(TABLE).append(" {}\n");
        sb.append("delete table inet ").append(TABLE).append('\n');
        sb.append("table inet ").append(TABLE).append(" {\n");
        sb.append("  comment \"").append(comment(body)).append("\"\n");
        sb.append(body);
        sb.append("}\n");
        sb.append(triggerPorts(rules));
        List<Element> plain = new ArrayList<>();
        List<Element> filtered = new ArrayList<>();
        for (Element e : elements) {
            (e.filtered() ? filtered : plain).add(e);
        }
        appendElements(new Transaction(sb), "add", plain, filtered, true, false);
        ports(sb, "add", filteredPorts(filtered));
        return sb.toString();
    }

    /**
     * The counter sets' elements of every mapping, flushed and filled again: the transaction that follows
     * {@link #table} or {@link #refill}, so forwarding is in place before the (costlier) counters are.
     */
    public static String counters(Collection<Element> elements) {
        StringBuilder sb = new StringBuilder();
        for (String set : List.of("rx", "tx", "trx")) {
            sb.append("flush set inet ").append(TABLE).append(' ').append(set).append('\n');
        }
        appendElements(new Transaction(sb), "add", new ArrayList<>(elements), List.of(), false, true);
        return sb.toString();
    }

    /**
     * A compatible stale table (a crashed run's, same structure) given these elements in one transaction: its
     * forwarding maps flushed and filled again. Established flows keep going: their NAT is in conntrack, and their
     * marks are the same (a mark is a function of the key, or reused from the stale {@code fmark4}).
     */
    public static String refill(List<TriggerRule> rules, Collection<Element> elements) {
        StringBuilder sb = new StringBuilder();
        for (String map : FORWARDING_MAPS) {
            sb.append("flush map inet ").append(TABLE).append(' ').append(map).append('\n');
        }
        sb.append("flush set inet ").append(TABLE).append(" fports\n");
        sb.append("flush set inet ").append(TABLE).append(" pins\n");
        sb.append(triggerPorts(rules));
        List<Element> plain = new ArrayList<>();
        List<Element> filtered = new ArrayList<>();
        for (Element e : elements) {
            (e.filtered() ? filtered : plain).add(e);
        }
        appendElements(new Transaction(sb), "add", plain, filtered, true, false);
        ports(sb, "add", filteredPorts(filtered));
        return sb.toString();
    }

    /** The (protocol . port) of NAT mappings with a remote filter, once each: the elements of {@code fports}. */
    static java.util.Set<String> filteredPorts(Collection<Element> elements) {
        java.util.Set<String> out = new java.util.LinkedHashSet<>();
        for (Element e : elements) {
            if (e.filtered() && !e.pinhole()) {
                out.add(e.portKey());
            }
        }
        return out;
    }

    private static void ports(StringBuilder sb, String verb, Collection<String> ports) {
        if (!ports.isEmpty()) {
            sb.append(verb).append(" element inet ").append(TABLE).append(" fports { ").append(String.join(", ", ports))
                    .append(" }\n");
        }
    }

    /**
     * The table's comment: natgw's name and a digest of its sets and chains. A stale table (a crashed run's) with the
     * same comment has the same structure, so its elements can be reconciled in place instead of replaced.
     */
    static String comment(String body) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return COMMENT + " " + java.util.HexFormat.of().formatHex(d, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The structure's comment for this configuration. */
    public static String comment(InetAddress wan, String wanInterface, List<String> lanInterfaces, boolean ipv6Firewall,
                                 boolean cutOnDelete) {
        return comment(body(wan, wanInterface, lanInterfaces, ipv6Firewall, cutOnDelete));
    }

    private static String body(InetAddress wan, String wanInterface, List<String> lanInterfaces, boolean ipv6Firewall,
                               boolean cutOnDelete) {
        String w = wan.getHostAddress();
        StringJoiner lans = new StringJoiner(", ", "{ ", " }");
        lanInterfaces.forEach(i -> lans.add("\"" + i + "\""));
        String mapped = "ct mark and " + hex(MAPPED) + " == " + hex(MAPPED);
        String l4 = "meta l4proto { tcp, udp } ip daddr " + w;
        StringBuilder sb = new StringBuilder();
        sb.append("  map dnat4 { type inet_proto . inet_service : ipv4_addr . inet_service; }\n");
        sb.append("  map mark4 { type inet_proto . inet_service : mark; }\n");
        sb.append("  map fdnat4 { type ipv4_addr . inet_service . inet_proto . inet_service : ipv4_addr . inet_service; flags interval; }\n");
        sb.append("  map fmark4 { type ipv4_addr . inet_service . inet_proto . inet_service : mark; flags interval; }\n");
        sb.append("  set fports { type inet_proto . inet_service; }\n");
        sb.append("  map pin6 { type ipv6_addr . inet_proto . inet_service : mark; }\n");
        sb.append("  map fpin6 { type ipv6_addr . inet_service . ipv6_addr . inet_proto . inet_service : mark; flags interval; }\n");
        sb.append("  set pins { type mark; }\n");
        sb.append("  set rx { type mark; counter; }\n");
        sb.append("  set tx { type mark; counter; }\n");
        sb.append("  set trx { type mark; counter; }\n");
        for (String s : List.of("trig_tcp", "trig_udp", "hold_tcp", "hold_udp")) {
            sb.append("  set ").append(s).append(" { type inet_service; flags interval; }\n");
        }
        sb.append("  chain prerouting {\n    type nat hook prerouting priority dstnat - 5; policy accept;\n");
        // filtered mappings first (more specific), but only on the ports that have one (@fports, a hash lookup): other
        // connections never pay for the filtered maps' interval lookups. A miss in a mark map ends its rule, so a
        // connection is DNATed only with its mapping's mark.
        sb.append("    ").append(l4).append(" meta l4proto . th dport @fports")
                .append(" ct mark set ip saddr . th sport . meta l4proto . th dport map @fmark4")
                .append(" dnat ip to ip saddr . th sport . meta l4proto . th dport map @fdnat4\n");
        sb.append("    ").append(l4).append(" ct mark set meta l4proto . th dport map @mark4")
                .append(" dnat ip to meta l4proto . th dport map @dnat4\n");
        sb.append("  }\n");
        String fromWan6 = "iifname \"" + wanInterface + "\" meta nfproto ipv6";
        String pinned = "ct mark and " + hex(MAPPED | PINHOLE) + " == " + hex(MAPPED | PINHOLE);
        // a new IPv6 flow from the WAN to a pinhole gets the pinhole's mark (a filtered one's wins: more specific)
        sb.append("  chain pinholes {\n");
        sb.append("    meta l4proto { tcp, udp } ct mark set ip6 daddr . meta l4proto . th dport map @pin6\n");
        sb.append("    meta l4proto { tcp, udp } ct mark set ip6 saddr . th sport . ip6 daddr . meta l4proto . th dport map @fpin6\n");
        sb.append("  }\n");
        // every forwarded packet runs this chain: a packet of an established flow costs its direction's counter lookup
        // (and, original direction, the small trx set's) and one accept; totals are the per-element counters summed
        sb.append("  chain forward {\n    type filter hook forward priority filter - 5; policy accept;\n");
        sb.append("    ct state new ").append(fromWan6).append(" jump pinholes\n");
        sb.append("    ct direction original ct mark @rx\n");
        sb.append("    ct direction reply ct mark @tx\n");
        sb.append("    ct direction original ct mark @trx\n");
        sb.append("    ").append(mapped).append(" ct status dnat accept\n");
        if (cutOnDelete) {
            // a removed pinhole's flows stop: their conntrack entries keep the mark, which @pins no longer has (it
            // leaves in the removal's transaction; its counters stay in rx/tx until they are retired)
            // (deleting the entries instead would let the LAN side's next packet pick the flow up again as its own).
            // Established flows only: a new one in the instant between a start's two transactions is admitted.
            sb.append("    ").append(pinned).append(" ct state established ct mark != @pins drop\n");
        }
        sb.append("    ").append(pinned).append(" accept\n");
        if (ipv6Firewall) {
            // inbound IPv6 is refused unless a pinhole admits it; replies (established, related) and LAN-originated
            // flows pass, and so does the ICMPv6 IPv6 needs (RFC 4890 4.3.1: errors, path MTU, echo)
            String toLan = fromWan6 + " oifname " + lans;
            sb.append("    ").append(toLan).append(" icmpv6 type ").append(ICMPV6_NEEDED).append(" accept\n");
            // new flows, and packets conntrack cannot place (invalid) or does not track: a reply is established
            sb.append("    ").append(toLan).append(" ct state invalid,new,untracked drop\n");
        }
        sb.append("  }\n");
        sb.append("  chain input {\n    type filter hook input priority filter - 5; policy accept;\n");
        sb.append("    iifname \"").append(wanInterface).append("\" ip daddr ").append(w).append(" ct state new tcp dport @hold_tcp drop\n");
        sb.append("    iifname \"").append(wanInterface).append("\" ip daddr ").append(w).append(" ct state new udp dport @hold_udp drop\n");
        sb.append("  }\n");
        sb.append("  chain postrouting {\n    type nat hook postrouting priority srcnat - 5; policy accept;\n");
        sb.append("    ").append(mapped).append(" ct status dnat iifname ").append(lans).append(" oifname ").append(lans)
                .append(" masquerade\n");
        for (Protocol p : Protocol.values()) {
            sb.append("    iifname ").append(lans).append(" oifname \"").append(wanInterface).append("\" ct state new ")
                    .append(p.label()).append(" dport @trig_").append(p.label()).append(" ct mark set ").append(hex(TRIGGER))
                    .append(" snat ip to ").append(w).append('\n');
        }
        sb.append("  }\n");
        return sb.toString();
    }

    /** The trigger and hold sets for these rules (flushed and filled again: one transaction with the caller's). */
    public static String triggerPorts(List<TriggerRule> rules) {
        StringBuilder sb = new StringBuilder();
        for (Protocol p : Protocol.values()) {
            List<String> trig = new ArrayList<>();
            List<String> hold = new ArrayList<>();
            for (TriggerRule r : rules) {
                if (!r.enabled()) {
                    continue;
                }
                if (r.triggerProtocols().contains(p)) {
                    ranges(r.triggerPorts().ranges(), trig);
                }
                if (r.incomingProtocols().contains(p)) {
                    ranges(r.incomingPorts().ranges(), hold);
                }
            }
            sb.append("flush set inet ").append(TABLE).append(" trig_").append(p.label()).append('\n');
            sb.append("flush set inet ").append(TABLE).append(" hold_").append(p.label()).append('\n');
            if (!trig.isEmpty()) {
                sb.append("add element inet ").append(TABLE).append(" trig_").append(p.label()).append(" { ")
                        .append(String.join(", ", trig)).append(" }\n");
            }
            if (!hold.isEmpty()) {
                sb.append("add element inet ").append(TABLE).append(" hold_").append(p.label()).append(" { ")
                        .append(String.join(", ", hold)).append(" }\n");
            }
        }
        return sb.toString();
    }

    private static void ranges(List<PortRange> ranges, List<String> out) {
        for (PortRange range : ranges) {
            if (range.last() >= 1) {
                int first = Math.max(1, range.first());
                out.add(first == range.last() ? Integer.toString(first) : first + "-" + range.last());
            }
        }
    }

    /**
     * The elements of an {@code nft list map} listing: key text to value text, in nft's own notation (which is the
     * notation {@link Element} writes).
     */
    static Map<String, String> parseElements(String listing) {
        Map<String, String> out = new HashMap<>();
        int start = listing.indexOf("elements = {");
        if (start < 0) {
            return out;
        }
        int end = listing.indexOf('}', start);
        String body = listing.substring(start + "elements = {".length(), end < 0 ? listing.length() : end);
        for (String item : body.split(",")) {
            String e = item.replaceAll("\\s+", " ").trim();
            int colon = e.indexOf(" : ");
            if (colon > 0) {
                out.put(e.substring(0, colon), e.substring(colon + 3));
            }
        }
        return out;
    }

    /**
     * As {@link #changes(Collection, Collection)}, and the ports that no longer have a filtered mapping leave
     * {@code fports} while those that now have one join it.
     */
    public static String changes(Collection<Element> removed, Collection<Element> added, Collection<String> portsGone,
                                 Collection<String> portsNew) {
        StringBuilder sb = new StringBuilder(changes(removed, added));
        ports(sb, "delete", portsGone);
        ports(sb, "add", portsNew);
        return sb.toString();
    }

    /**
     * The transaction of a writer batch: the forwarding elements of {@code removed} deleted (and their {@code trx}
     * elements), but their counters ({@code rx}, {@code tx}) only for the marks in {@code countersGone} (the others stay
     * until the forwarder retires them: reading them here would cost a listing of the sets); then the elements of
     * {@code added}, counters included; then the {@code fports} changes.
     */
    public static String changes(Collection<Element> removed, Collection<Element> added, Collection<String> portsGone,
                                 Collection<String> portsNew, Collection<Long> countersGone) {
        return transaction(removed, added, portsGone, portsNew, countersGone).text();
    }

    /**
     * {@link #changes(Collection, Collection, Collection, Collection, Collection)} as a {@link Transaction}: its text
     * and, when no element has a remote filter (interval keys) and {@code fports} does not change, its netlink form.
     */
    public static Transaction transaction(Collection<Element> removed, Collection<Element> added,
                                          Collection<String> portsGone, Collection<String> portsNew,
                                          Collection<Long> countersGone) {
        Transaction t = new Transaction();
        List<Element> plain = new ArrayList<>();
        List<Element> filtered = new ArrayList<>();
        for (Element e : removed) {
            (e.filtered() ? filtered : plain).add(e);
        }
        appendElements(t, "delete", plain, filtered, true, false);
        List<Element> triggered = removed.stream().filter(Element::triggered).toList();
        if (!triggered.isEmpty()) {
            markElements(t, "delete", "trx", triggered);
        }
        retire(t, countersGone);
        plain.clear();
        filtered.clear();
        for (Element e : added) {
            (e.filtered() ? filtered : plain).add(e);
        }
        appendElements(t, "add", plain, filtered, true, true);
        if (!portsGone.isEmpty() || !portsNew.isEmpty()) {
            t.textOnly();
            ports(t.text, "delete", portsGone);
            ports(t.text, "add", portsNew);
        }
        return t;
    }

    /** The deletion of these marks' counter elements ({@code rx}, {@code tx}): removed elements' counters retired. */
    public static String retire(Collection<Long> marks) {
        return retirement(marks).text();
    }

    /** {@link #retire(Collection)} as a {@link Transaction}. */
    public static Transaction retirement(Collection<Long> marks) {
        Transaction t = new Transaction();
        retire(t, marks);
        return t;
    }

    private static void retire(Transaction t, Collection<Long> marks) {
        if (marks.isEmpty()) {
            return;
        }
        List<Long> list = List.copyOf(marks);
        for (String set : List.of("rx", "tx")) {
            t.text.append("delete element inet ").append(TABLE).append(' ').append(set).append(" { ");
            for (int i = 0; i < list.size(); i++) {
                t.text.append(i > 0 ? ", " : "").append(hex(list.get(i)));
            }
            t.text.append(" }\n");
            if (t.netlink) {
                t.changes.add(new NftNetlink.SetChange(false, set, list.stream().map(KernelRuleset::markBytes).toList(),
                        null));
            }
        }
    }

    /** Commands that delete the elements of {@code removed} and add those of {@code added}, in this order. */
    public static String changes(Collection<Element> removed, Collection<Element> added) {
        Transaction t = new Transaction();
        List<Element> plain = new ArrayList<>();
        List<Element> filtered = new ArrayList<>();
        for (Element e : removed) {
            (e.filtered() ? filtered : plain).add(e);
        }
        appendElements(t, "delete", plain, filtered, true, true);
        plain.clear();
        filtered.clear();
        for (Element e : added) {
            (e.filtered() ? filtered : plain).add(e);
        }
        appendElements(t, "add", plain, filtered, true, true);
        return t.text();
    }

    private static void appendElements(Transaction t, String verb, List<Element> plain, List<Element> filtered,
                                       boolean forwarding, boolean counters) {
        boolean delete = verb.equals("delete");
        // Loops and lists made only for the maps that get elements: this runs for every batch of the table's writer
        // (one request, sequentially), where each map, stream and iterator made is garbage to collect.
        if (forwarding) {
            @SuppressWarnings("unchecked")
            List<Element>[] byMap = new List[FORWARDING_MAPS.size()];
            List<Element> pins = null;
            for (List<Element> list : List.of(plain, filtered)) {
                for (int i = 0; i < list.size(); i++) {
                    Element e = list.get(i);
                    if (e.dnatMap() != null) {
                        add(byMap, e.dnatMap(), e);
                    }
                    add(byMap, e.markMap(), e);
                    if (e.pinhole()) {
                        (pins == null ? pins = new ArrayList<>() : pins).add(e);
                    }
                }
            }
            for (int m = 0; m < byMap.length; m++) {
                List<Element> list = byMap[m];
                if (list != null) {
                    boolean dnat = FORWARDING_MAPS.get(m).contains("dnat");
                    t.elements(verb, FORWARDING_MAPS.get(m), list, e -> delete ? e.key() : dnat ? e.dnat() : e.markValue(),
                            Element::keyBytes, delete ? null : dnat ? Element::dnatBytes : e -> markBytes(e.mark()));
                }
            }
            if (pins != null) {
                markElements(t, verb, "pins", pins); // the live pinholes (cutOnDelete's drop)
            }
        }
        if (!counters) {
            return;
        }
        List<Element> all = plain;
        if (!filtered.isEmpty()) {
            all = new ArrayList<>(plain);
            all.addAll(filtered);
        }
        if (!all.isEmpty()) {
            markElements(t, verb, "rx", all);
            markElements(t, verb, "tx", all);
        }
        List<Element> triggered = null;
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).triggered()) {
                (triggered == null ? triggered = new ArrayList<>() : triggered).add(all.get(i));
            }
        }
        if (triggered != null) {
            markElements(t, verb, "trx", triggered); // incoming traffic renews triggered leases
        }
    }

    /** Adds {@code e} to the list of forwarding map {@code map} (one of {@link #FORWARDING_MAPS}), made on first use. */
    private static void add(List<Element>[] byMap, String map, Element e) {
        int i = FORWARDING_MAPS.indexOf(map);
        (byMap[i] == null ? byMap[i] = new ArrayList<>() : byMap[i]).add(e);
    }

    /** Elements of a set of marks (pins, rx, tx, trx): one per element's mark. */
    private static void markElements(Transaction t, String verb, String set, List<Element> list) {
        t.elements(verb, set, list, e -> hex(e.mark()), e -> markBytes(e.mark()), null);
    }

    private static void elements(StringBuilder sb, String verb, String set, List<Element> list,
                                 java.util.function.Function<Element, String> text) {
        sb.append(verb).append(" element inet ").append(TABLE).append(' ').append(set).append(" { ");
        for (int i = 0; i < list.size(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(text.apply(list.get(i)));
        }
        sb.append(" }\n");
    }
}
