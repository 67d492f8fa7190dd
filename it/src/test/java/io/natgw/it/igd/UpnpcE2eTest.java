package io.natgw.it.igd;

import io.natgw.igd.Soap;
import io.natgw.it.support.Require;
import io.natgw.testsupport.Command;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * miniupnpc's upnpc (Debian) against the real daemon: -s, -a, -l, -L, -d, -n, -N, and a second LAN host
 * (127.0.0.2) for first-client-wins and ownership. The sandbox WAN address 127.0.1.1 is "reserved", so upnpc
 * is given the description URL with -u rather than trusting discovery.
 */
class UpnpcE2eTest {

    private static final InetAddress OTHER = IgdDaemon.address("127.0.0.2");
    private static IgdDaemon gw;

    @BeforeAll
    static void start() {
        Require.tool("upnpc");
        gw = IgdDaemon.start(false);
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    private static Command.Result run(int version, String... args) {
        List<String> cmd = new ArrayList<>(List.of("upnpc", "-u", (version == 1 ? gw.v1 : gw.v2).toString(), "-e", "natgw-it"));
        cmd.addAll(List.of(args));
        return Command.run(Duration.ofSeconds(30), cmd.toArray(String[]::new));
    }

    /** upnpc's output; it must have exited 0, or nothing it printed (or did not print) means anything. */
    private static String upnpc(int version, String... args) {
        Command.Result r = run(version, args);
        assertEquals(0, r.exit(), "upnpc " + String.join(" ", args) + " failed: " + r);
        return r.output();
    }

    /** {@code upnpc -l}, walked to its end (error 713 after the last row), so a missing row is really missing. */
    private static String listAll() {
        String list = upnpc(1, "-l");
        assertTrue(list.contains("GetGenericPortMappingEntry() returned 713"), "upnpc -l listed every row:\n" + list);
        return list;
    }

    @Test
    void fullLifecycleWithUpnpc() throws Exception {
        String status = upnpc(1, "-s");
        assertTrue(status.contains("Status : Connected") && status.contains("ExternalIPAddress = 127.0.1.1"), status);

        String add = upnpc(1, "-a", "127.0.0.1", "41001", "41001", "TCP", "600");
        assertTrue(add.contains("external 127.0.1.1:41001 TCP is redirected to internal 127.0.0.1:41001"), add);
        String list = listAll();
        assertTrue(list.contains("41001->127.0.0.1:41001") && list.contains("'natgw-it'"), list);

        String addAny = upnpc(2, "-n", "127.0.0.1", "41002", "41002", "UDP", "600");
        assertTrue(addAny.contains("is redirected to internal 127.0.0.1:41002"), addAny);
        String listV2 = upnpc(2, "-L");
        assertTrue(listV2.contains("41002"), listV2);

        String del = upnpc(1, "-d", "41001", "TCP");
        assertTrue(del.contains("UPNP_DeletePortMapping() returned : 0"), del);
        String afterDelete = listAll();
        assertFalse(afterDelete.contains("41001->"), afterDelete);

        upnpc(2, "-a", "127.0.0.1", "41003", "41003", "UDP", "600");
        String range = upnpc(2, "-N", "41000", "41010", "UDP");
        assertTrue(range.contains("returned : 0"), range);
        String afterRange = listAll();
        assertFalse(afterRange.contains("UDP"), "the range delete removed both UDP rows:\n" + afterRange);
    }

    @Test
    void firstClientWinsAndOnlyTheOwnerDeletes() throws Exception {
        Soap.Result other = gw.soap(1).callFrom(OTHER, "AddPortMapping", "NewRemoteHost", "", "NewExternalPort", "41020",
                "NewProtocol", "TCP", "NewInternalPort", "41020", "NewInternalClient", "127.0.0.2", "NewEnabled", "1",
                "NewPortMappingDescription", "other", "NewLeaseDuration", "600");
        assertEquals(0, other.errorCode(), other.body());

        Command.Result taken = run(1, "-a", "127.0.0.1", "41020", "41020", "TCP", "600");
        assertTrue(taken.exit() != 0 && taken.output().contains("718"), "upnpc sees ConflictInMappingEntry: " + taken);
        Command.Result notMine = run(1, "-d", "41020", "TCP");
        assertTrue(notMine.exit() != 0 && notMine.output().contains("606"), "upnpc may not delete another client's mapping: " + notMine);
        String list = listAll();
        assertTrue(list.contains("41020->127.0.0.2:41020"), list);

        Soap.Result mine = gw.soap(1).callFrom(OTHER, "DeletePortMapping", "NewRemoteHost", "",
                "NewExternalPort", "41020", "NewProtocol", "TCP");
        assertEquals(0, mine.errorCode(), mine.body());
    }
}
