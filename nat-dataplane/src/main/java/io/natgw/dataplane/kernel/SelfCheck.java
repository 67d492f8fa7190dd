package io.natgw.dataplane.kernel;

import io.natgw.conf.NatgwConfig;
import io.natgw.dataplane.ChildProcesses;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What kernel forwarding needs before it touches the kernel. Each problem is named with what would fix it; natgw
 * refuses to start while any is left, rather than run half-working.
 */
final class SelfCheck {

    /** linux/capability.h: CAP_NET_ADMIN. */
    static final int CAP_NET_ADMIN = 12;
    private static final Pattern TABLE_LINE = Pattern.compile("(?m)^table (\\S+) (\\S+)");

    private SelfCheck() {
    }

    static List<String> problems(NatgwConfig config, InetAddress wan) {
        List<String> out = new ArrayList<>();
        if (!(wan instanceof Inet4Address)) {
            out.add("network.wan.address must be an IPv4 address (kernel forwarding is IPv4), not " + wan.getHostAddress());
        }
        if (!hasCapability(Path.of("/proc/self/status"), CAP_NET_ADMIN)) {
            out.add("CAP_NET_ADMIN is missing (run as root, or grant the capability)");
        }
        String forward = read(Path.of("/proc/sys/net/ipv4/ip_forward"));
        if (!"1".equals(forward)) {
            out.add("IPv4 forwarding is off (net.ipv4.ip_forward = " + (forward == null ? "unreadable" : forward)
                    + "; set it with sysctl -w net.ipv4.ip_forward=1)");
        }
        if (config.network().lanAddresses().stream().anyMatch(a -> a instanceof Inet6Address)) {
            String forward6 = read(Path.of("/proc/sys/net/ipv6/conf/all/forwarding"));
            if (!"1".equals(forward6)) {
                out.add("IPv6 forwarding is off while network.lan.addresses has IPv6 addresses, so no pinhole would "
                        + "forward (net.ipv6.conf.all.forwarding = " + (forward6 == null ? "unreadable" : forward6)
                        + "; set it with sysctl -w net.ipv6.conf.all.forwarding=1)");
            }
        }
        if (!ChildProcesses.onPath("conntrack")) {
            out.add("the conntrack tool is not installed (Debian package conntrack: port triggering and cutOnDelete use it)");
        }
        List<String> ifs = new ArrayList<>(config.network().lanInterfaces());
        ifs.add(config.network().wanInterface());
        for (String i : ifs) {
            if (i.isEmpty() || !Files.exists(Path.of("/sys/class/net", i))) {
                out.add("network interface '" + i + "' does not exist");
            }
        }
        return out;
    }

    /** Another table named natgw (of another family, or without natgw's comment) is not ours to replace. */
    static List<String> tables(Nft nft) {
        List<String> out = new ArrayList<>();
        String list;
        try {
            list = nft.run("list tables");
        } catch (Nft.NftException e) {
            out.add("nftables cannot be read: " + e.getMessage());
            return out;
        }
        Matcher m = TABLE_LINE.matcher(list);
        while (m.find()) {
            if (!m.group(2).equals(KernelRuleset.TABLE)) {
                continue;
            }
            if (!m.group(1).equals("inet")) {
                out.add("a conflicting nftables table '" + m.group(1) + " " + KernelRuleset.TABLE
                        + "' exists (not natgw's; rename or delete it)");
                continue;
            }
            try {
                String t = nft.terse("list table inet " + KernelRuleset.TABLE);
                if (!t.contains("comment \"natgw")) {
                    out.add("a conflicting nftables table 'inet " + KernelRuleset.TABLE
                            + "' exists without natgw's comment (not natgw's; rename or delete it)");
                }
            } catch (Nft.NftException e) {
                out.add("nftables table inet " + KernelRuleset.TABLE + " cannot be read: " + e.getMessage());
            }
        }
        return out;
    }

    static boolean hasCapability(Path status, int cap) {
        String s = read(status);
        if (s == null) {
            return false;
        }
        for (String line : s.split("\n")) {
            if (line.startsWith("CapEff:")) {
                long bits = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                return (bits & (1L << cap)) != 0;
            }
        }
        return false;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p).trim();
        } catch (IOException e) {
            return null;
        }
    }
}
