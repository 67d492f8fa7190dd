package io.natgw.dataplane;

import io.natgw.conf.NatgwConfig;
import io.natgw.conf.PortRange;
import io.natgw.conf.Protocol;
import io.natgw.conf.TriggerRule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * The divert's kernel state: the nftables table inet {@value #TABLE} whose prerouting rule TPROXYs LAN hosts' flows
 * to trigger ports to the transparent listeners, and the policy routing ({@code fwmark 1 lookup 100},
 * {@code local 0.0.0.0/0 dev lo table 100}) that delivers the marked packets locally.
 */
final class DivertNft {

    private static final Logger log = LoggerFactory.getLogger(TransparentDivert.class);
    static final String TABLE = "natgw";
    static final String MARK = "1";
    static final String ROUTE_TABLE = "100";

    private final NatgwConfig config;
    private boolean routing;

    DivertNft(NatgwConfig config) {
        this.config = config;
    }

    /** Removes the table (a missing one is fine). */
    void removeTable() {
        Shell.Result r = Shell.run("nft", "delete", "table", "inet", TABLE);
        if (!r.ok() && !r.output().contains("No such file")) {
            log.warn("cannot remove nftables table inet {}: {}", TABLE, r.output());
        }
    }

    /** Removes the policy routing, if installed. */
    void removeRouting() {
        if (routing) {
            Shell.run("ip", "rule", "del", "fwmark", MARK, "lookup", ROUTE_TABLE);
            Shell.run("ip", "route", "del", "local", "0.0.0.0/0", "dev", "lo", "table", ROUTE_TABLE);
            routing = false;
        }
    }

    void installRouting() {
        // Remove leftovers of a crashed run first, so exactly one rule of ours exists.
        for (int i = 0; i < 8 && Shell.run("ip", "rule", "del", "fwmark", MARK, "lookup", ROUTE_TABLE).ok(); i++) {
            log.debug("removed a stale policy routing rule");
        }
        check(Shell.run("ip", "rule", "add", "fwmark", MARK, "lookup", ROUTE_TABLE), "ip rule add fwmark 1 lookup 100");
        routing = true;
        check(Shell.run("ip", "route", "replace", "local", "0.0.0.0/0", "dev", "lo", "table", ROUTE_TABLE),
                "ip route replace local 0.0.0.0/0 dev lo table 100");
    }

    void apply(List<TriggerRule> rules, int tcpPort, int udpPort) {
        String script = ruleset(config.network().lanInterfaces(), rules, tcpPort, udpPort);
        check(Shell.runWithInput(script, "nft", "-f", "-"), "nft -f (table inet " + TABLE + ")");
        log.debug("nftables table inet {} installed:\n{}", TABLE, script);
    }

    /** The whole table: created empty, deleted (a stale one goes too) and written again, in one atomic nft run. */
    static String ruleset(List<String> lanInterfaces, List<TriggerRule> rules, int tcpPort, int udpPort) {
        StringJoiner ifs = new StringJoiner(", ", "{ ", " }");
        lanInterfaces.forEach(i -> ifs.add("\"" + i + "\""));
        StringBuilder sb = new StringBuilder();
        sb.append("table inet ").append(TABLE).append(" {}\n");
        sb.append("delete table inet ").append(TABLE).append('\n');
        sb.append("table inet ").append(TABLE).append(" {\n");
        sb.append("  comment \"natgw tproxy divert\"\n");
        sb.append("  chain divert {\n");
        sb.append("    type filter hook prerouting priority mangle; policy accept;\n");
        for (Protocol p : Protocol.values()) {
            String ports = triggerPorts(rules, p);
            if (ports.isEmpty()) {
                continue;
            }
            int to = p == Protocol.TCP ? tcpPort : udpPort;
            sb.append("    meta nfproto ipv4 iifname ").append(ifs).append(" fib daddr type != local ")
                    .append(p.label()).append(" dport { ").append(ports).append(" } ")
                    .append("tproxy ip to :").append(to).append(" meta mark set ").append(MARK).append(" accept\n");
        }
        sb.append("  }\n}\n");
        return sb.toString();
    }

    static String triggerPorts(List<TriggerRule> rules, Protocol p) {
        List<String> parts = new ArrayList<>();
        for (TriggerRule r : rules) {
            if (r.enabled() && r.triggerProtocols().contains(p)) {
                for (PortRange range : r.triggerPorts().ranges()) {
                    if (range.last() >= 1) {
                        parts.add(range.first() == range.last() ? Integer.toString(range.first())
                                : Math.max(1, range.first()) + "-" + range.last());
                    }
                }
            }
        }
        return String.join(", ", parts);
    }

    /** What is missing of the table, the policy routing and the LAN interfaces (read back from the kernel). */
    List<String> problems(List<TriggerRule> rules, int tcpPort, int udpPort) {
        List<String> problems = new ArrayList<>();
        Shell.Result table = Shell.run("nft", "list", "table", "inet", TABLE);
        boolean tcpRules = !triggerPorts(rules, Protocol.TCP).isEmpty();
        boolean udpRules = !triggerPorts(rules, Protocol.UDP).isEmpty();
        if (!table.ok()) {
            problems.add("nftables table inet " + TABLE + " is missing: " + table.output());
        } else {
            if (tcpRules && !table.output().contains("tproxy ip to :" + tcpPort)) {
                problems.add("nftables table inet " + TABLE + " has no tcp tproxy rule to port " + tcpPort);
            }
            if (udpRules && !table.output().contains("tproxy ip to :" + udpPort)) {
                problems.add("nftables table inet " + TABLE + " has no udp tproxy rule to port " + udpPort);
            }
        }
        Shell.Result rule = Shell.run("ip", "rule", "show");
        if (!rule.output().contains("fwmark 0x1 lookup " + ROUTE_TABLE)) {
            problems.add("policy routing rule 'fwmark 0x1 lookup 100' is missing");
        }
        Shell.Result route = Shell.run("ip", "route", "show", "table", ROUTE_TABLE);
        if (!route.output().contains("local default dev lo")) {
            problems.add("route 'local 0.0.0.0/0 dev lo table 100' is missing");
        }
        for (String lan : config.network().lanInterfaces()) {
            if (!Shell.run("ip", "link", "show", "dev", lan).ok()) {
                problems.add("LAN interface '" + lan + "' (network.lanInterfaces) does not exist");
            }
        }
        return problems;
    }

    static void check(Shell.Result r, String what) {
        if (!r.ok()) {
            throw new IllegalStateException("linux-gateway mode refuses to start: " + what + " failed: " + r.output());
        }
    }
}
