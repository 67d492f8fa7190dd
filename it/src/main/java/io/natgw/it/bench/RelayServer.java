package io.natgw.it.bench;

import io.natgw.conf.ConfigLoader;
import io.natgw.conf.NatgwConfig;
import io.natgw.core.InMemoryLeaseStore;
import io.natgw.core.MappingTable;
import io.natgw.dataplane.Dataplane;

import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;

/**
 * Just the dataplane and the table, for the relay benchmark: {@code RelayServer CONFIG.yaml} starts them on the
 * configuration (its static mappings are what gets relayed), prints {@code relay ready} and runs until killed.
 * No journal, no front-ends: the figures are the relay's alone.
 */
public final class RelayServer {

    private RelayServer() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: RelayServer CONFIG.yaml");
            System.exit(2);
        }
        NatgwConfig config = ConfigLoader.load(Path.of(args[0]));
        Clock clock = Clock.systemUTC();
        Dataplane dp = new Dataplane(config, clock);
        dp.start();
        MappingTable table = new MappingTable(config, new InMemoryLeaseStore(), dp, clock);
        dp.attach(table);
        table.addListener(dp);
        table.start();
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                table.close();
            } catch (Exception e) {
                System.err.println("close: " + e);
            }
            dp.close();
            stop.countDown();
        }));
        System.out.println("relay ready: " + table.view().size() + " mappings on " + table.externalAddress().getHostAddress());
        System.out.flush();
        stop.await();
    }
}
