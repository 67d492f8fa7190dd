package io.natgw.it.pcp;

import io.natgw.conf.Protocol;
import io.natgw.it.support.Daemon;
import io.natgw.it.support.Require;
import io.natgw.pcp.NatPmpRequest;
import io.natgw.pcp.NatPmpResponse;
import io.natgw.pcp.NatPmpResultCode;
import io.natgw.pcp.PcpNonce;
import io.natgw.pcp.PcpOpcodeData;
import io.natgw.pcp.PcpOption;
import io.natgw.pcp.PcpResponse;
import io.natgw.pcp.PcpResultCode;
import io.natgw.persistence.JournalLeaseStore;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NAT-PMP and PCP against the real daemon on loopback: natpmpc (Debian) and a Java client on a second loopback
 * address. The daemon listens on its own LAN address (127.0.0.61) and WAN address (127.0.61.1), so it does not
 * collide with other daemons on the shipped 127.0.0.1/127.0.1.1.
 */
class PcpDaemonE2eTest {

    static final InetAddress LAN = ip("127.0.0.61");
    static final InetAddress WAN = ip("127.0.61.1");
    static final InetAddress CLIENT = ip("127.0.0.1"); // the source the kernel picks towards 127.0.0.61
    static final InetAddress SECOND_OWNER = ip("127.0.0.62");
    static final InetSocketAddress SERVER = new InetSocketAddress(LAN, 5351);

    static Daemon daemon() {
        return daemon(Daemon.builder());
    }

    static Daemon daemon(Daemon.Builder builder) {
        return builder
                .set("network.lan.addresses", List.of(LAN.getHostAddress()))
                .set("network.wan.address", WAN.getHostAddress())
                .set("upnp.enabled", false)
                .set("admin.enabled", false)
                .set("triggers", List.of())
                .start();
    }

    @Test
    void natpmpcMapsRefreshesAndUnmapsAndTheMappingForwards() throws Exception {
        Require.tool("natpmpc");
        try (Daemon d = daemon(); ServerSocket internal = new ServerSocket(0, 5, CLIENT)) {
            Natpmpc natpmpc = new Natpmpc(LAN);
            int wanted = 41000 + (int) (ProcessHandle.current().pid() % 1000);
            Natpmpc.Mapped m = natpmpc.map(wanted, internal.getLocalPort(), "tcp", 3600);
            assertEquals(new Natpmpc.Mapped(wanted, "TCP", internal.getLocalPort(), 3600, WAN.getHostAddress(), m.epoch()), m);

            // the mapping is real: the dataplane relays WAN:wanted to the internal socket
            try (Socket outside = new Socket(WAN, wanted); Socket inside = internal.accept()) {
                OutputStream o = outside.getOutputStream();
                o.write(new byte[] {1, 2, 3});
                o.flush();
                InputStream in = inside.getInputStream();
                assertArrayEquals(new byte[] {1, 2, 3}, in.readNBytes(3));
            }

            // refresh: the same port again
            assertEquals(wanted, natpmpc.map(0, internal.getLocalPort(), "tcp", 7200).publicPort());

            // unmap: lifetime 0 answers port 0, and the port is free for another owner afterwards
            Natpmpc.Mapped gone = natpmpc.map(0, internal.getLocalPort(), "tcp", 0);
            assertEquals(List.of(0, 0L), List.of(gone.publicPort(), gone.lifetime()));
            try (PortMapClient other = new PortMapClient(SECOND_OWNER, SERVER)) {
                assertEquals(wanted, other.natPmpMap(Protocol.TCP, 7777, wanted, 600).externalPort());
            }
        }
    }

    @Test
    void firstClientWinsBetweenTwoOwners() throws Exception {
        Require.tool("natpmpc");
        try (Daemon d = daemon(); PortMapClient second = new PortMapClient(SECOND_OWNER, SERVER)) {
            int wanted = 42000 + (int) (ProcessHandle.current().pid() % 1000);
            assertEquals(wanted, new Natpmpc(LAN).map(wanted, 6000, "udp", 600).publicPort());

            // NAT-PMP from another owner: an asymmetric mapping on another port
            NatPmpResponse.Map alt = second.natPmpMap(Protocol.UDP, 6000, wanted, 600);
            assertEquals(NatPmpResultCode.SUCCESS, alt.result());
            assertNotEquals(wanted, alt.externalPort());

            // PCP from another owner: another port, or CANNOT_PROVIDE_EXTERNAL with PREFER_FAILURE
            PcpNonce nonce = new PcpNonce("0123456789abcdef01234567");
            PcpResponse pcpAlt = second.pcpMap(nonce, Protocol.UDP, 6001, wanted, 600);
            assertEquals(PcpResultCode.SUCCESS, pcpAlt.result());
            assertNotEquals(wanted, ((PcpOpcodeData.MapData) pcpAlt.data()).externalPort());
            PcpResponse refused = second.pcpMap(nonce, Protocol.UDP, 6002, wanted, 600, new PcpOption.PreferFailure());
            assertEquals(PcpResultCode.CANNOT_PROVIDE_EXTERNAL, refused.result());

            // the first owner still holds its port: its refresh keeps it
            assertEquals(wanted, new Natpmpc(LAN).map(0, 6000, "udp", 600).publicPort());
        }
    }

    /**
     * The epoch keeps counting across a crash. The journal is seeded with an epoch that started an hour ago
     * (instead of sleeping until the epoch is large enough to tell from a reset one): the daemon must continue
     * it, and after kill -9 and a restart, it must have grown by at least the whole seconds between the reads.
     */
    @Test
    void mappingsSurviveKill9WithTheSamePortsAndAContinuousEpoch() throws Exception {
        Require.tool("natpmpc");
        PcpNonce nonce = new PcpNonce("a1a2a3a4a5a6a7a8a9aaabac");
        Path work = Files.createTempDirectory("natgw-it-epoch-");
        long seededAgo = Duration.ofHours(1).toSeconds();
        JournalLeaseStore seed = JournalLeaseStore.open(work.resolve("data"), Clock.systemUTC());
        try {
            seed.recover(Instant.now());
            seed.recordState(Instant.now().minusSeconds(seededAgo), WAN);
        } finally {
            seed.close();
        }
        try (Daemon d = daemon(Daemon.builder().workDir(work))) {
            Natpmpc natpmpc = new Natpmpc(LAN);
            int natPmpPort;
            int pcpPort;
            long epochBefore;
            long readBefore;
            try (PortMapClient pcp = new PortMapClient(CLIENT, SERVER)) {
                natPmpPort = natpmpc.map(0, 6100, "tcp", 3600).publicPort();
                PcpResponse granted = pcp.pcpMap(nonce, Protocol.UDP, 6200, 0, 3600, new PcpOption.Description("e2e restart"));
                assertEquals(PcpResultCode.SUCCESS, granted.result());
                pcpPort = ((PcpOpcodeData.MapData) granted.data()).externalPort();
                epochBefore = ((NatPmpResponse.ExternalAddress) pcp.natPmp(new NatPmpRequest.ExternalAddress())).epoch();
                readBefore = System.nanoTime(); // after the answer: the interval measured is inside the real one
            }
            assertTrue(epochBefore >= seededAgo, "the daemon continued the journal's epoch (started " + seededAgo
                    + " s ago), but answered epoch " + epochBefore);

            d.kill9();
            d.restart();

            try (PortMapClient pcp = new PortMapClient(CLIENT, SERVER)) {
                long wholeSecondsBetween = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - readBefore); // before the ask
                long epochAfter = ((NatPmpResponse.ExternalAddress) pcp.natPmp(new NatPmpRequest.ExternalAddress())).epoch();
                assertTrue(epochAfter >= epochBefore + wholeSecondsBetween, "the epoch did not keep counting across the restart: "
                        + epochBefore + " then " + epochAfter + ", " + wholeSecondsBetween + " s later");
                assertEquals(natPmpPort, natpmpc.map(0, 6100, "tcp", 3600).publicPort());
                assertEquals(pcpPort, ((PcpOpcodeData.MapData) pcp.pcpMap(nonce, Protocol.UDP, 6200, 0, 3600).data()).externalPort());
                // the restored mapping kept its nonce: a delete with another one is refused, with its own accepted
                assertEquals(PcpResultCode.NOT_AUTHORIZED,
                        pcp.pcpMap(new PcpNonce("000000000000000000000000"), Protocol.UDP, 6200, 0, 0).result());
                assertEquals(PcpResultCode.SUCCESS, pcp.pcpMap(nonce, Protocol.UDP, 6200, 0, 0).result());
            }
        }
    }

    static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
