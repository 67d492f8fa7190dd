package io.natgw.persistence;

import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.Forwarder;
import io.natgw.core.MappingRequest;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;

import java.io.FileOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The process {@link KillDashNineTest} kills: a table on the journal in {@code args[0]} that maps as fast as
 * {@value #REQUESTERS} concurrent clients can ask, and prints each mapping only once its future has
 * completed, i.e. once the client would have seen it acknowledged:
 * {@code ACK <protocol> <external port> <owner address> <internal port> .} (the final dot marks a whole line).
 * Bounded: at most {@code args[2]} mappings per requester, and {@code args[3]} seconds. The lines go to the
 * file {@code args[4]}.
 */
public final class AcknowledgingChild {

    static final int REQUESTERS = 16;

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int firstInternalPort = Integer.parseInt(args[1]);
        int perRequester = Integer.parseInt(args[2]);
        long deadline = System.nanoTime() + Duration.ofSeconds(Long.parseLong(args[3])).toNanos();
        // Acknowledgements go to a file, not stdout: what a process wrote to a file before a SIGKILL is all there
        // afterwards, whereas the tail of a killed child's stdout pipe can be lost on the reading side.
        PrintStream out = new PrintStream(new FileOutputStream(args[4]), true, StandardCharsets.US_ASCII);

        Clock clock = Clock.systemUTC();
        MappingTable table = new MappingTable(TableConfigs.forLoad(dir), JournalLeaseStore.open(dir, clock), Forwarder.NONE, clock);
        MappingTable.Startup startup = table.start();
        out.println("READY " + startup.restored());

        List<Thread> requesters = new ArrayList<>();
        for (int r = 0; r < REQUESTERS; r++) {
            InetAddress client = InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (10 + r)});
            Protocol protocol = r % 2 == 0 ? Protocol.TCP : Protocol.UDP;
            Thread t = new Thread(() -> {
                Owner owner = Owner.of(client, Origin.PCP);
                for (int i = 0; i < perRequester && System.nanoTime() < deadline; i++) {
                    int internalPort = firstInternalPort + i;
                    Outcome o = table.apply(MappingRequest.Map.dynamic(owner, protocol, new Endpoint(client, internalPort), 0,
                            Duration.ofHours(1)));
                    if (o instanceof Outcome.Granted g) {
                        out.println("ACK " + protocol.label() + " " + g.mapping().externalPort() + " "
                                + client.getHostAddress() + " " + internalPort + " .");
                    } else {
                        out.println("REFUSED " + o);
                    }
                }
            }, "requester-" + r);
            t.start();
            requesters.add(t);
        }
        for (Thread t : requesters) {
            t.join();
        }
        out.println("DONE");
        table.close();
    }

    private AcknowledgingChild() {
    }
}
