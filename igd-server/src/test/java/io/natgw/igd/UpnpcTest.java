package io.natgw.igd;

import io.natgw.conf.Protocol;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * miniupnpc's upnpc against the in-process IGD (its description URL given with -u: the sandbox WAN
 * address is "reserved", so discovery would call the IGD not connected). -L, -n and -N are IGD:2 actions
 * and use the IGD:2 description; -s, -a, -l, -d run against IGD:1 as Windows-era clients do.
 */
class UpnpcTest {

    private static TestGateway gw;

    @BeforeAll
    static void start() throws Exception {
        Tools.require("upnpc");
        gw = TestGateway.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
    }

    @BeforeEach
    void clean() throws Exception {
        // nothing may be left to delete: any exit code
        upnpcAnyExit(2, "-N", "1", "65535", "TCP");
        upnpcAnyExit(2, "-N", "1", "65535", "UDP");
    }

    /** upnpc, which must exit 0: a check on its output means nothing when upnpc itself failed. */
    private static Tools.Run upnpc(int version, String... args) {
        Tools.Run r = upnpcAnyExit(version, args);
        assertEquals(0, r.exit(), "upnpc " + String.join(" ", args) + " failed: " + r);
        return r;
    }

    private static Tools.Run upnpcAnyExit(int version, String... args) {
        String[] cmd = new String[args.length + 5];
        cmd[0] = "upnpc";
        cmd[1] = "-u";
        cmd[2] = gw.description(version).toString();
        cmd[3] = "-e";
        cmd[4] = "natgw-test";
        System.arraycopy(args, 0, cmd, 5, args.length);
        return Tools.run(cmd);
    }

    private static Optional<Mapping> row(Protocol p, int port) {
        return gw.table.view().find(MappingKey.of(p, port));
    }

    @Test
    void statusShowsConnectedAndTheExternalAddress() throws Exception {
        Tools.Run r = upnpc(1, "-s");
        assertTrue(r.output().contains("Status : Connected"), r.output());
        assertTrue(r.output().contains("ExternalIPAddress = 127.0.1.1"), r.output());
        assertTrue(r.output().contains("MaxBitRateDown"), r.output());
    }

    @Test
    void addListDeleteOverIgd1() throws Exception {
        Tools.Run add = upnpc(1, "-a", "127.0.0.1", "7001", "17001", "TCP", "3600");
        assertTrue(add.output().contains("is redirected to internal 127.0.0.1:7001"), add.output());
        Mapping m = row(Protocol.TCP, 17001).orElseThrow();
        assertEquals(List.of("127.0.0.1", 7001, "natgw-test"),
                List.of(m.internal().address().getHostAddress(), m.internal().port(), m.description()));

        Tools.Run list = upnpc(1, "-l");
        assertTrue(list.output().contains("TCP 17001->127.0.0.1:7001  'natgw-test'"), list.output());

        Tools.Run del = upnpc(1, "-d", "17001", "TCP");
        assertTrue(del.output().contains("UPNP_DeletePortMapping() returned : 0"), del.output());
        assertTrue(row(Protocol.TCP, 17001).isEmpty());
    }

    @Test
    void listOfPortMappingsOverIgd2() throws Exception {
        // upnpc 2.2.4's -L asks for one protocol (UDP in Debian's build): map both.
        upnpc(2, "-a", "127.0.0.1", "7002", "17002", "TCP", "3600");
        upnpc(2, "-a", "127.0.0.1", "7002", "17002", "UDP", "3600");
        Tools.Run list = upnpc(2, "-L");
        assertTrue(list.output().contains("17002") && list.output().contains("natgw-test"), list.output());
        assertTrue(row(Protocol.UDP, 17002).isPresent() && row(Protocol.TCP, 17002).isPresent());
    }

    @Test
    void addAnyGetsAnAlternativeWhenThePortIsHeldByAnother() throws Exception {
        // 127.0.0.2 holds 17003 first (first client wins); upnpc from 127.0.0.1 asks for it with AddAnyPortMapping.
        Soap.Result other = gw.soap(2).callFrom(TestGateway.address("127.0.0.2"), "AddPortMapping",
                "NewRemoteHost", "", "NewExternalPort", "17003", "NewProtocol", "TCP", "NewInternalPort", "7003",
                "NewInternalClient", "127.0.0.2", "NewEnabled", "1", "NewPortMappingDescription", "other",
                "NewLeaseDuration", "3600");
        assertEquals(0, other.errorCode(), other.body());
        Tools.Run any = upnpc(2, "-n", "127.0.0.1", "7003", "17003", "TCP", "3600");
        assertTrue(any.output().contains("is redirected to internal 127.0.0.1:7003"), any.output());
        long mine = gw.table.view().mappings().stream()
                .filter(m -> m.internal().address().getHostAddress().equals("127.0.0.1") && m.internal().port() == 7003)
                .filter(m -> m.externalPort() != 17003)
                .count();
        assertEquals(1, mine, gw.table.view().mappings().toString());
        assertEquals("127.0.0.2", row(Protocol.TCP, 17003).orElseThrow().internal().address().getHostAddress());
        // clean the other owner's row through its own address
        gw.soap(2).callFrom(TestGateway.address("127.0.0.2"), "DeletePortMappingRange", "NewStartPort", "1",
                "NewEndPort", "65535", "NewProtocol", "TCP", "NewManage", "1");
    }

    @Test
    void deleteRangeRemovesOnlyTheCallersOwn() throws Exception {
        upnpc(2, "-a", "127.0.0.1", "7004", "17004", "TCP", "3600");
        upnpc(2, "-a", "127.0.0.1", "7005", "17005", "TCP", "3600");
        Soap.Result other = gw.soap(2).callFrom(TestGateway.address("127.0.0.3"), "AddPortMapping",
                "NewRemoteHost", "", "NewExternalPort", "17006", "NewProtocol", "TCP", "NewInternalPort", "7006",
                "NewInternalClient", "127.0.0.3", "NewEnabled", "1", "NewPortMappingDescription", "other",
                "NewLeaseDuration", "3600");
        assertEquals(0, other.errorCode(), other.body());

        Tools.Run range = upnpc(2, "-N", "17000", "17010", "TCP");
        assertTrue(range.output().contains("returned : 0") || range.output().contains("returned 0"), range.output());
        assertEquals(List.of(false, false, true), List.of(row(Protocol.TCP, 17004).isPresent(),
                row(Protocol.TCP, 17005).isPresent(), row(Protocol.TCP, 17006).isPresent()));
        gw.soap(2).callFrom(TestGateway.address("127.0.0.3"), "DeletePortMapping", "NewRemoteHost", "",
                "NewExternalPort", "17006", "NewProtocol", "TCP");
        assertTrue(row(Protocol.TCP, 17006).isEmpty());
    }
}
