package io.natgw.it.pcp;

import io.natgw.testsupport.Command;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Debian's {@code natpmpc} (libnatpmp): the real NAT-PMP client, run as a process and its output read. */
public final class Natpmpc {

    private static final Pattern MAPPED =
            Pattern.compile("Mapped public port (\\d+) protocol (TCP|UDP) to local port (\\d+) liftime (\\d+)");
    private static final Pattern PUBLIC = Pattern.compile("Public IP address : (\\S+)");
    private static final Pattern EPOCH = Pattern.compile("epoch = (\\d+)");

    /** What natpmpc printed for a mapping request. */
    public record Mapped(int publicPort, String protocol, int privatePort, long lifetime, String publicAddress, long epoch) {
    }

    private final InetAddress gateway;
    private final List<String> prefix;

    Natpmpc(InetAddress gateway) {
        this(List.of(), gateway);
    }

    /** natpmpc run behind a command prefix, e.g. {@code ip netns exec LAN} for a LAN host in a namespace. */
    public Natpmpc(List<String> prefix, InetAddress gateway) {
        this.prefix = List.copyOf(prefix);
        this.gateway = gateway;
    }

    /** {@code natpmpc -g GW -a PUBLIC PRIVATE tcp|udp LIFETIME}; fails the test unless it reports a mapping. */
    public Mapped map(int publicPort, int privatePort, String protocol, long lifetime) {
        String out = "";
        for (int attempt = 0; attempt < 3; attempt++) {
            out = run("-g", gateway.getHostAddress(), "-a", Integer.toString(publicPort), Integer.toString(privatePort),
                    protocol, Long.toString(lifetime));
            // natpmpc resends a request unanswered after 250 ms, then reads the late duplicate answer to its
            // address request as the mapping answer ("protocol UNKNOWN"): a client quirk on a busy machine.
            // The mapping request is idempotent: ask again.
            if (!(out.contains("TRY AGAIN") && out.contains("protocol UNKNOWN"))) {
                break;
            }
        }
        Matcher m = MAPPED.matcher(out);
        Matcher p = PUBLIC.matcher(out);
        Matcher e = EPOCH.matcher(out);
        if (!m.find() || !p.find() || !e.find()) {
            throw new AssertionError("natpmpc did not map:\n" + out);
        }
        long epoch = Long.parseLong(e.group(1));
        while (e.find()) {
            epoch = Long.parseLong(e.group(1)); // the mapping reply's epoch comes last
        }
        return new Mapped(Integer.parseInt(m.group(1)), m.group(2), Integer.parseInt(m.group(3)), Long.parseLong(m.group(4)),
                p.group(1), epoch);
    }

    /** natpmpc's output; it must exit 0 (30 s ceiling that only catches a hang). */
    private String run(String... args) {
        List<String> cmd = new java.util.ArrayList<>(prefix);
        cmd.add("natpmpc");
        cmd.addAll(List.of(args));
        Command.Result r = Command.run(Duration.ofSeconds(30), null, true, cmd);
        if (r.exit() != 0) {
            throw new AssertionError("natpmpc " + String.join(" ", args) + " failed: " + r);
        }
        return r.output();
    }
}
