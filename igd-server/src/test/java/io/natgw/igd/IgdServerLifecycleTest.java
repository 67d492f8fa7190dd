package io.natgw.igd;

import io.natgw.core.TrafficStats;
import io.natgw.core.Forwarder;
import io.natgw.core.InMemoryLeaseStore;
import io.natgw.core.MappingTable;
import io.natgw.core.TableListener;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ExecutorService;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IgdServer gives back what it took (issue 11): its table listener and its GENA event executor, on close and
 * when start fails after it was built. The table outlives it, so a leaked listener would keep being called.
 */
class IgdServerLifecycleTest {

    @SuppressWarnings("unchecked")
    private static List<TableListener> listeners(MappingTable table) throws Exception {
        var f = MappingTable.class.getDeclaredField("listeners");
        f.setAccessible(true);
        return (List<TableListener>) f.get(table);
    }

    private static ExecutorService eventExecutor(IgdServer igd) throws Exception {
        var f = IgdServer.class.getDeclaredField("eventExecutor");
        f.setAccessible(true);
        return (ExecutorService) f.get(igd);
    }

    @Test
    void closeRemovesTheTableListenerAndStopsTheEventExecutor() throws Exception {
        MappingTable table = new MappingTable(TestGateway.config(true, 16), new InMemoryLeaseStore(), Forwarder.NONE, Clock.systemUTC());
        int before = listeners(table).size();
        IgdServer igd = new IgdServer(table.config(), table, TestLink.up(), TrafficStats.NONE, 0);
        assertEquals(before + 2, listeners(table).size(), "it listens once built: GENA events, a new BOOTID on an address change");
        table.start();
        igd.close();
        assertEquals(before, listeners(table).size(), "listener removed on close");
        assertTrue(eventExecutor(igd).isShutdown());
        table.close();
    }

    @Test
    void aFailedStartGivesEverythingBack() throws Exception {
        MappingTable table = new MappingTable(TestGateway.config(true, 16), new InMemoryLeaseStore(), Forwarder.NONE, Clock.systemUTC());
        int before = listeners(table).size();
        try (ServerSocket held = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            var base = TestGateway.config(true, 16);
            var taken = new io.natgw.conf.NatgwConfig(base.source(), base.network(), base.dataDir(), base.pcp(),
                    new io.natgw.conf.NatgwConfig.Upnp(true, held.getLocalPort(), false, base.upnp().v1ZeroLease(),
                            base.upnp().maxLease(), base.upnp().friendlyName()),
                    base.admin(), base.limits(), base.permissions(), base.staticMappings(), base.triggers(), base.dataplane());
            IgdServer igd = new IgdServer(taken, table, TestLink.up(), TrafficStats.NONE, 0);
            table.start();
            IllegalStateException e = assertThrows(IllegalStateException.class, igd::start);
            assertTrue(e.getMessage().contains("UPnP HTTP cannot listen on 127.0.0.1:" + held.getLocalPort()), e.getMessage());
            assertEquals(before, listeners(table).size(), "listener removed after the failed start");
            assertTrue(eventExecutor(igd).isShutdown());
        } finally {
            table.close();
        }
    }
}
