package io.natgw.it.dataplane;

import io.natgw.it.pcp.AnnouncementListener;
import io.natgw.it.pcp.Natpmpc;
import io.natgw.it.support.Daemon;
import io.natgw.it.support.Require;
import io.natgw.pcp.NatPmpCodec;
import io.natgw.pcp.NatPmpResponse;
import io.natgw.pcp.PcpCodec;
import io.natgw.pcp.PcpOpcodeData;
import io.natgw.pcp.PcpResponse;
import io.natgw.pcp.PcpResultCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.natgw.it.dataplane.Topology.GW_LAN;
import static io.natgw.it.dataplane.Topology.GW_WAN;
import static io.natgw.it.dataplane.Topology.LAN_A;
import static io.natgw.it.dataplane.Topology.WAN_HOST;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The WAN address changes under the running daemon (issue 15.1), in the lan / gw / wan namespaces: the gateway's
 * 203.0.113.1 is deleted from gwwan and 203.0.113.5 added, as a DHCP renewal that hands out another address would.
 * natgw sees it through its {@code ip monitor} watcher and moves everything: a mapping made before forwards on the
 * new address (kernel forwarding: natgw's nftables table rebuilt; relay mode: the relays rebound), natpmpc reads the
 * new address, the LAN host hears the NAT-PMP and PCP announcements of it with a new epoch, a GENA subscriber gets
 * ExternalIPAddress, and the admin status and event stream show it.
 */
class WanAddressChangeE2eTest {

    static final String NEW_WAN = "203.0.113.5";
    static final Duration CEILING = Duration.ofSeconds(60);

    Topology net;
    Daemon daemon;
    final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void topology() throws Exception {
        net = Topology.forDaemon("nft", "natpmpc", "conntrack", "curl");
    }

    @AfterEach
    void teardown() throws InterruptedException {
        for (Process p : processes) {
            p.destroy(); // by its own handle (PID)
        }
        for (Process p : processes) {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        Topology.close(daemon, net);
    }

    Daemon start(String forwarding, String wanAddress) {
        return start(forwarding, wanAddress, java.util.Map.of());
    }

    Daemon start(String forwarding, String wanAddress, java.util.Map<String, Object> more) {
        Daemon.Builder b = net.gatewayDaemon()
                .set("network.wan.address", wanAddress)
                .set("network.wan.interface", "gwwan")
                .set("upnp.enabled", true)
                .set("upnp.ssdp", true)
                .set("upnp.httpPort", 5000)
                .set("pcp.announce", true)
                .set("admin.addresses", List.of("127.0.0.1"))
                .set("dataplane.mode", "linux-gateway")
                .set("dataplane.forwarding", forwarding)
                .set("triggers", List.of());
        more.forEach(b::set);
        Daemon d = b.start();
        // the watcher starts after "natgw started": a change made before it runs would be the start state, not a change
        await("the WAN address watcher to run").atMost(CEILING).pollInterval(Duration.ofMillis(50))
                .until(() -> d.log().contains("following the WAN address on interface gwwan"));
        return d;
    }

    @Test
    void kernelForwardingMovesToTheNewAddressAndEveryoneIsTold() throws Exception {
        // Debian coturn's STUN server on the WAN host: network.wan.stun asks it again from the new address
        Require.tool("turnserver");
        processes.add(new ProcessBuilder("ip", "netns", "exec", net.wan, "turnserver", "-n", "--listening-ip=" + WAN_HOST,
                "--listening-port=3478", "--stun-only", "--no-tls", "--no-dtls", "--no-cli", "--log-file=stdout", "--simple-log")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
        await("the STUN server to listen").atMost(CEILING).pollInterval(Duration.ofMillis(200)).until(() ->
                net.exec(net.wan, "ss", "-Hlun", "sport", "=", ":3478").output().contains("3478"));
        daemon = start("kernel", GW_WAN, java.util.Map.of("network.wan.stun", WAN_HOST + ":3478"));
        assertTrue(daemon.log().contains("kernel forwarding (nftables)"), "the kernel path ran:\n" + daemon.logTail());
        await("STUN from the first address").atMost(CEILING).until(() -> status(daemon, net)
                .contains("\"stunAddress\":\"" + GW_WAN + "\""));
        Changed c = changeTheWanAddress();
        await("STUN from the new address").atMost(CEILING).until(() -> status(daemon, net)
                .contains("\"stunAddress\":\"" + NEW_WAN + "\""));

        String nft = net.exec(net.gw, "nft", "list", "table", "inet", "natgw").output();
        assertTrue(nft.contains(NEW_WAN) && !nft.contains(GW_WAN + " "), "natgw's table names the new address only:\n" + nft);
        String seen = net.peer(net.wan, "line-from", WAN_HOST, NEW_WAN, "8080");
        assertTrue(seen.startsWith(WAN_HOST + ":"), "the WAN peer reaches the LAN server on " + NEW_WAN
                + ":8080 and the server sees the peer's own address: " + seen + "\n" + nft + "\n" + daemon.logTail());
        String old = net.peer(net.wan, "line-from", WAN_HOST, GW_WAN, "8080");
        assertTrue(!old.startsWith(WAN_HOST + ":"), "nothing forwards on the old address: " + old);
        c.assertEveryoneWasTold();
    }

    /** With network.wan.address: auto (and the WAN interface named). */
    @Test
    void relaysRebindToTheNewAddressAndEveryoneIsTold() throws Exception {
        daemon = start("relay", "auto");
        assertTrue(daemon.log().contains("linux-gateway divert active"), "relay mode ran:\n" + daemon.logTail());
        assertTrue(daemon.log().contains("natgw started: external address " + GW_WAN), "auto with network.wan.interface "
                + "starts on that interface's address (not the LAN side's):\n" + daemon.logTail());
        Changed c = changeTheWanAddress();

        assertTrue(daemon.log().contains("rebinding 1 listeners from " + GW_WAN + " to " + NEW_WAN), daemon.logTail());
        String seen = net.peer(net.wan, "line-from", WAN_HOST, NEW_WAN, "8080");
        assertTrue(seen.startsWith(GW_LAN + ":"), "the WAN peer reaches the LAN server through the relay bound on "
                + NEW_WAN + ":8080 (the server sees the gateway): " + seen + "\n" + daemon.logTail());
        c.assertEveryoneWasTold();
    }

    /**
     * Abuse: the watcher's child is killed (restarted with back-off, logged, and it still sees the next change); an
     * address inside network.lan.clients appearing on the WAN interface is not followed (a warning, the status keeps
     * the old address); then a usable address is followed and forwards.
     */
    @Test
    void aKilledWatcherIsRestartedAndALanAddressOnTheWanInterfaceIsNotFollowed() throws Exception {
        daemon = start("kernel", GW_WAN);
        long first = monitorPid();
        Topology.sh("kill", Long.toString(first)); // by its PID, found among the gateway namespace's processes
        await("the watcher to be restarted").atMost(CEILING).until(() -> daemon.log().contains(
                "ip -o monitor address) exited with status") && monitorPidOrZero() > 0
                && monitorPidOrZero() != first);
        assertTrue(daemon.log().contains("starting it again in 1 s"), daemon.logTail());

        net.server(net.lan, "peer", "peer", LAN_A, "8080");
        Natpmpc natpmpc = new Natpmpc(List.of("ip", "netns", "exec", net.lan), InetAddress.getByName(GW_LAN));
        assertEquals(GW_WAN, natpmpc.map(8080, 8080, "tcp", 600).publicAddress());

        Topology.sh("ip", "-n", net.gw, "addr", "del", GW_WAN + "/24", "dev", "gwwan");
        Topology.sh("ip", "-n", net.gw, "addr", "add", "192.168.77.50/32", "dev", "gwwan");
        await("the refusal").atMost(CEILING).until(() -> daemon.log().contains("WAN address 192.168.77.50 on interface gwwan "
                + "not followed: it is inside network.lan.clients 192.168.77.0/24"));
        assertTrue(daemon.log().contains("interface gwwan has no usable IPv4 address any more; mappings stay on " + GW_WAN),
                daemon.logTail());
        assertTrue(status(daemon, net).contains("\"externalAddress\":\"" + GW_WAN + "\""));
        assertTrue(!daemon.log().contains("external address changed"), daemon.logTail());

        Topology.sh("ip", "-n", net.gw, "addr", "add", NEW_WAN + "/24", "dev", "gwwan");
        await("natgw to follow").atMost(CEILING).until(() -> daemon.log().contains("external address changed from "
                + GW_WAN + " to " + NEW_WAN));
        String seen = net.peer(net.wan, "line-from", WAN_HOST, NEW_WAN, "8080");
        assertTrue(seen.startsWith(WAN_HOST + ":"), seen + "\n" + daemon.logTail());

        // kill -9 of natgw: its watcher child goes with it (setpriv --pdeathsig), no orphan left in the namespace
        long child = monitorPid();
        daemon.kill9();
        await("the watcher's child to go with natgw").atMost(CEILING).until(() -> !Files.exists(Path.of("/proc",
                Long.toString(child))) || monitorPidOrZero() != child);
        assertEquals(1, daemon.log().lines().filter(l -> l.contains("192.168.77.50") && l.contains("not followed")).count(),
                "logged once: " + daemon.logTail());
    }

    /** The PID of the daemon's "ip -o monitor address" child, in the gateway's namespace. */
    long monitorPid() {
        await("the watcher's child").atMost(CEILING).until(() -> monitorPidOrZero() > 0);
        return monitorPidOrZero();
    }

    long monitorPidOrZero() {
        Topology.Result pids = Topology.run(null, "ip", "netns", "pids", net.gw);
        for (String pid : pids.output().split("\\s+")) {
            if (pid.isBlank()) {
                continue;
            }
            Path cmdline = Path.of("/proc", pid, "cmdline");
            try {
                if (Files.readString(cmdline).equals("ip\0-o\0monitor\0address\0")) {
                    return Long.parseLong(pid);
                }
            } catch (IOException gone) {
                // exited meanwhile
            }
        }
        return 0;
    }

    /** What the LAN side heard, kept to be checked once the forwarding is. */
    record Changed(Path announcements, Path notifications, Path events, Path ssdp, java.time.Instant epochStart,
                   long epochBefore, Daemon daemon, Topology net) {

        void assertEveryoneWasTold() throws Exception {
            // natpmpc (Debian's, a real client) reads the new address, with an epoch of the new epoch: the status read
            // after it counts at least as many seconds, and the new epoch began after the old one was 3 s old
            Natpmpc.Mapped m = new Natpmpc(List.of("ip", "netns", "exec", net.lan), InetAddress.getByName(GW_LAN))
                    .map(8080, 8080, "tcp", 600);
            assertEquals(NEW_WAN, m.publicAddress(), daemon.logTail());
            String after = status(daemon, net);
            long newEpoch = Long.parseLong(jsonField(after, "epochSeconds"));
            java.time.Instant newStart = java.time.Instant.parse(jsonField(after, "epochStart"));
            assertTrue(!newStart.isBefore(epochStart.plusSeconds(epochBefore)), "the epoch restarted at the change: began "
                    + newStart + ", the old one " + epochStart + " and was " + epochBefore + " s old before the change");
            assertTrue(m.epoch() <= newEpoch, "natpmpc's epoch " + m.epoch() + " is the new epoch's (" + newEpoch + " s)");

            // the LAN host heard a NAT-PMP announcement of the new address and the PCP ANNOUNCE beside it, new epoch
            await("the announcements of " + NEW_WAN).atMost(CEILING).until(() -> announcedEpochs(announcements) != null);
            long[] epochs = announcedEpochs(announcements);
            assertTrue(epochs[0] <= newEpoch && epochs[1] <= newEpoch,
                    "NAT-PMP epoch " + epochs[0] + ", PCP epoch " + epochs[1] + ": the new epoch's (" + newEpoch + " s)");

            // UDA 1.1 section 1.2.2: ssdp:byebye with the old BOOTID.UPNP.ORG, then ssdp:alive with the next one
            await("ssdp:byebye then ssdp:alive with a new BOOTID").atMost(CEILING).until(() -> newBoot(ssdp));

            // the GENA subscriber got ExternalIPAddress
            await("the GENA event").atMost(CEILING).until(() -> Files.readString(notifications)
                    .contains("<ExternalIPAddress>" + NEW_WAN + "</ExternalIPAddress>"));

            // the admin status and event stream
            String status = status(daemon, net);
            assertTrue(status.contains("\"externalAddress\":\"" + NEW_WAN + "\""), status);
            await("the admin event").atMost(CEILING).until(() -> Files.readString(events)
                    .contains("event: external-address\ndata: {\"externalAddress\":\"" + NEW_WAN + "\"}"));

            assertEquals(1, daemon.log().lines().filter(l -> l.contains("INFO") && l.contains("external address changed from "
                    + GW_WAN + " to " + NEW_WAN + "; the NAT-PMP/PCP epoch restarts")).count(), daemon.logTail());
        }
    }

    /**
     * Maps 8080 to the LAN server, sets up the listeners (announcements, a GENA subscription, the admin event stream),
     * waits until the epoch is a few seconds old, then changes the address and waits for natgw to follow.
     */
    Changed changeTheWanAddress() throws Exception {
        net.server(net.lan, "peer", "peer", LAN_A, "8080");
        Natpmpc natpmpc = new Natpmpc(List.of("ip", "netns", "exec", net.lan), InetAddress.getByName(GW_LAN));
        Natpmpc.Mapped before = natpmpc.map(8080, 8080, "tcp", 600);
        assertEquals(GW_WAN, before.publicAddress());
        String first = net.peer(net.wan, "line-from", WAN_HOST, GW_WAN, "8080");
        assertTrue(first.contains(":"), "forwarded before the change: " + first);

        Path announcements = background(net.lan, "announcements", AnnouncementListener.class, "lan0", "400", "170");
        Path notifications = background(net.lan, "gena", NotifySink.class, LAN_A, "7070");
        Path ssdp = background(net.lan, "ssdp", SsdpListener.class, "lan0", "170");
        subscribe("http://" + LAN_A + ":7070/gena");
        await("the initial GENA event").atMost(CEILING).until(() -> Files.readString(notifications)
                .contains("<ExternalIPAddress>" + GW_WAN + "</ExternalIPAddress>"));
        Path events = net.work.resolve("events.log");
        String token = Files.readString(daemon.dataDir().resolve("admin.token")).trim();
        processes.add(new ProcessBuilder("ip", "netns", "exec", net.gw, "curl", "-skN", "--max-time", "170", "-H",
                "Authorization: Bearer " + token, "https://127.0.0.1:8443/api/v1/events").redirectErrorStream(true)
                .redirectOutput(events.toFile()).start());

        // an epoch a few seconds old, so that "it went back" means something (polled, not slept)
        long[] epoch = {0};
        String[] start = {null};
        await("the epoch to be 3 s old").atMost(CEILING).pollInterval(Duration.ofMillis(500)).until(() -> {
            String s = status(daemon, net);
            epoch[0] = Long.parseLong(jsonField(s, "epochSeconds"));
            start[0] = jsonField(s, "epochStart");
            return epoch[0] >= 3;
        });

        assertTrue(!Files.readString(ssdp).contains("ssdp:byebye"), "no byebye before the change: " + Files.readString(ssdp));
        // the DHCP renewal that hands out another address: the old one goes, then the new one comes
        Topology.sh("ip", "-n", net.gw, "addr", "del", GW_WAN + "/24", "dev", "gwwan");
        Topology.sh("ip", "-n", net.gw, "addr", "add", NEW_WAN + "/24", "dev", "gwwan");
        await("natgw to follow").atMost(CEILING).until(() -> daemon.log().contains("external address changed from "
                + GW_WAN + " to " + NEW_WAN));
        await("the status to show it").atMost(CEILING).until(() -> status(daemon, net)
                .contains("\"externalAddress\":\"" + NEW_WAN + "\""));
        return new Changed(announcements, notifications, events, ssdp, java.time.Instant.parse(start[0]), epoch[0], daemon, net);
    }

    /** Whether the SSDP log holds a byebye with some BOOTID b followed by an alive with b + 1. */
    static boolean newBoot(Path ssdp) throws IOException {
        List<String> lines = Files.readAllLines(ssdp);
        Pattern notify = Pattern.compile("NOTIFY nts=(\\S+) bootid=(\\d+) .*");
        long byebye = -1;
        for (String l : lines) {
            Matcher m = notify.matcher(l);
            if (!m.matches()) {
                continue;
            }
            long boot = Long.parseLong(m.group(2));
            if (m.group(1).equals("ssdp:byebye") && byebye < 0) {
                byebye = boot;
            } else if (m.group(1).equals("ssdp:alive") && byebye >= 0 && boot == byebye + 1) {
                return true;
            }
        }
        return false;
    }

    /** The admin status, fetched in the gateway's namespace with the admin token. */
    static String status(Daemon daemon, Topology net) throws IOException {
        String token = Files.readString(daemon.dataDir().resolve("admin.token")).trim();
        Topology.Result r = net.exec(net.gw, "curl", "-sk", "--max-time", "10", "-w", "\\n%{http_code}", "-H",
                "Authorization: Bearer " + token, "https://127.0.0.1:8443/api/v1/status");
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().endsWith("\n200"), r.output());
        return r.output();
    }

    static String jsonField(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"?([^,\"}]+)").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return m.group(1);
    }

    /**
     * From the listener's log: the epochs of the first NAT-PMP announcement of the new address and of the PCP ANNOUNCE
     * sent right after it (they go out together); null until both are there.
     */
    static long[] announcedEpochs(Path log) throws IOException, io.natgw.pcp.PcpFormatException {
        List<String> lines = Files.readAllLines(log).stream().filter(l -> l.startsWith("FROM ")).toList();
        for (int i = 0; i + 1 < lines.size(); i++) {
            String[] f = lines.get(i).split(" ");
            assertEquals(GW_LAN + ":5351", f[1], lines.get(i));
            byte[] d = HexFormat.of().parseHex(f[2]);
            if (d.length == 0 || d[0] != 0) {
                continue;
            }
            NatPmpResponse.ExternalAddress a = assertInstanceOf(NatPmpResponse.ExternalAddress.class,
                    NatPmpCodec.decodeResponse(ByteBuffer.wrap(d)));
            if (!a.address().getHostAddress().equals(NEW_WAN)) {
                continue;
            }
            PcpResponse p = PcpCodec.decodeResponse(ByteBuffer.wrap(HexFormat.of().parseHex(lines.get(i + 1).split(" ")[2])));
            assertEquals(PcpResultCode.SUCCESS, p.result());
            assertInstanceOf(PcpOpcodeData.Announce.class, p.data());
            return new long[] {a.epoch(), p.epoch()};
        }
        return null;
    }

    /** A GENA SUBSCRIBE to WANIPConnection:1 from the LAN host, as a control point sends it. */
    void subscribe(String callback) {
        Matcher d = Pattern.compile("UPnP IGD:1 at (\\S+) and").matcher(daemon.log());
        assertTrue(d.find(), daemon.logTail());
        java.net.URI description = java.net.URI.create(d.group(1));
        Topology.Result desc = net.exec(net.lan, "curl", "-s", "--max-time", "10", description.toString());
        assertEquals(0, desc.exit(), desc.output());
        String service = "urn:schemas-upnp-org:service:WANIPConnection:1";
        Matcher e = Pattern.compile("<serviceType>" + Pattern.quote(service) + "</serviceType>.*?<eventSubURL>([^<]+)</eventSubURL>",
                Pattern.DOTALL).matcher(desc.output());
        assertTrue(e.find(), desc.output());
        Topology.Result r = net.exec(net.lan, "curl", "-s", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                "-X", "SUBSCRIBE", "-H", "CALLBACK: <" + callback + ">", "-H", "NT: upnp:event", "-H", "TIMEOUT: Second-1800",
                description.resolve(e.group(1)).toString());
        assertEquals("200", r.output(), "SUBSCRIBE: " + r.output());
    }

    /** Starts a helper's main in a namespace, its output in a file, and waits for its "ready". */
    Path background(String ns, String name, Class<?> main, String... args) throws IOException {
        Path log = net.work.resolve(name + ".log");
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns, Path.of(System.getProperty("java.home"), "bin",
                "java").toString(), "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx32m", "-cp", classes(), main.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(p);
        await(name + " to be ready").atMost(CEILING).until(() -> {
            if (!p.isAlive()) {
                throw new IllegalStateException(name + " exited: " + Files.readString(log));
            }
            return Files.readString(log).contains("ready");
        });
        return log;
    }

    private static String classes() {
        try {
            return Path.of(NotifySink.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
