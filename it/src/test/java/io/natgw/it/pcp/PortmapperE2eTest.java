package io.natgw.it.pcp;

import com.offbynull.portmapper.gateway.Gateway;
import com.offbynull.portmapper.gateways.network.NetworkGateway;
import com.offbynull.portmapper.gateways.network.internalmessages.KillNetworkRequest;
import com.offbynull.portmapper.mapper.MappedPort;
import com.offbynull.portmapper.mapper.PortMapper;
import com.offbynull.portmapper.mapper.PortType;
import com.offbynull.portmapper.mappers.natpmp.NatPmpPortMapper;
import com.offbynull.portmapper.mappers.pcp.PcpPortMapper;
import io.natgw.conf.Protocol;
import io.natgw.it.support.Daemon;
import io.natgw.pcp.NatPmpResultCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;

import static io.natgw.it.pcp.PcpDaemonE2eTest.LAN;
import static io.natgw.it.pcp.PcpDaemonE2eTest.SERVER;
import static io.natgw.it.pcp.PcpDaemonE2eTest.WAN;
import static io.natgw.it.pcp.PcpDaemonE2eTest.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code com.offbynull.portmapper} 2.0.6, a real Java client of NAT-PMP and PCP, against the daemon. Its discovery
 * ignores loopback gateways (TESTING-NOTES), so the mappers are built directly with the gateway address; its PCP
 * refresh sends a new nonce, which the default ({@code pcp.strictNonce: false}) accepts.
 */
class PortmapperE2eTest {

    static final InetAddress HOST = ip("127.0.0.63");

    private static Daemon daemon;
    private static Gateway network;

    @BeforeAll
    static void start() {
        daemon = PcpDaemonE2eTest.daemon();
        network = NetworkGateway.create();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (network != null) {
            network.getBus().send(new KillNetworkRequest());
            network.join();
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    @Test
    void natPmpMapRefreshUnmap() throws Exception {
        check(new NatPmpPortMapper(network.getBus(), HOST, LAN), PortType.TCP, 6300, 43100 + offset());
    }

    @Test
    void pcpMapRefreshUnmap() throws Exception {
        check(new PcpPortMapper(network.getBus(), HOST, LAN), PortType.UDP, 6400, 43200 + offset());
    }

    private static void check(PortMapper mapper, PortType type, int internal, int wanted) throws Exception {
        MappedPort m = mapper.mapPort(type, internal, wanted, 3600);
        assertEquals(List.of(internal, wanted, WAN, 3600L),
                List.of(m.getInternalPort(), m.getExternalPort(), m.getExternalAddress(), m.getLifetime()));

        MappedPort refreshed = mapper.refreshPort(m, 7200);
        assertEquals(List.of(wanted, 7200L), List.of(refreshed.getExternalPort(), refreshed.getLifetime()));

        mapper.unmapPort(refreshed);
        // unmapped for real: another owner now gets exactly that port
        Protocol protocol = type == PortType.TCP ? Protocol.TCP : Protocol.UDP;
        try (PortMapClient other = new PortMapClient(PcpDaemonE2eTest.SECOND_OWNER, SERVER)) {
            var granted = other.natPmpMap(protocol, 7000, wanted, 600);
            assertEquals(List.of(NatPmpResultCode.SUCCESS, wanted), List.of(granted.result(), granted.externalPort()));
            other.natPmpMap(protocol, 7000, 0, 0);
        }
    }

    private static int offset() {
        return (int) (ProcessHandle.current().pid() % 500);
    }
}
