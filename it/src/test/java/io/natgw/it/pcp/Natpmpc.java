package io.natgw.it.pcp;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Debian's {@code natpmpc} (libnatpmp): the real NAT-PMP client, run as a process and its output read. */
final class Natpmpc {

    private static final Pattern MAPPED =
            Pattern.compile("Mapped public port (\\d+) protocol (TCP|UDP) to local port (\\d+) liftime (\\d+)");
    private static final Pattern PUBLIC = Pattern.compile("Public IP address : (\\S+)");
    private static final Pattern EPOCH = Pattern.compile("epoch = (\\d+)");

    /** What natpmpc printed for a mapping request. */
    record Mapped(int publicPort, String protocol, int privatePort, long lifetime, String publicAddress, long epoch) {
    }

    private final InetAddress gateway;

    Natpmpc(InetAddress gateway) {
        this.gateway = gateway;
    }

    /** {@code natpmpc -g GW -a PUBLIC PRIVATE tcp|udp LIFETIME}; fails the test unless it reports a mapping. */
    Mapped map(int publicPort, int privatePort, String protocol, long lifetime) throws IOException, InterruptedException {
        String out = run("-g", gateway.getHostAddress(), "-a", Integer.toString(publicPort), Integer.toString(privatePort),
                protocol, Long.toString(lifetime));
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

    private String run(String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "natpmpc";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("natpmpc did not finish within 30 s");
        }
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
}
