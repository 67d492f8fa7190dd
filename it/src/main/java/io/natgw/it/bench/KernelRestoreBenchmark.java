package io.natgw.it.bench;

import io.natgw.conf.Protocol;
import io.natgw.core.RemoteFilter;
import io.natgw.dataplane.kernel.KernelRuleset;
import io.natgw.dataplane.kernel.KernelRuleset.Element;
import io.natgw.dataplane.kernel.Nft;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The nftables side of a restore of N leases to kernel forwarding, as {@code KernelForwarder} does it, through
 * libnftables in-process: the whole table after a clean stop, the refill of a stale table after {@code kill -9}, each
 * followed by the counters' transaction. Prints milliseconds per step, ROUNDS times. Run as root in a network
 * namespace of its own (it creates and deletes {@code table inet natgw}), e.g. by {@code bench/relay-bench.sh}.
 *
 * <p>usage: {@code KernelRestoreBenchmark [MAPPINGS (100000)] [ROUNDS (3)]}
 */
public final class KernelRestoreBenchmark {

    private KernelRestoreBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        if (n < 1 || n > 2 * 64_511 || rounds < 1 || rounds > 20) {
            throw new IllegalArgumentException("MAPPINGS 1..129022 (TCP and UDP ports 1025-65535), ROUNDS 1..20");
        }
        InetAddress lan = InetAddress.getByName("192.168.77.10");
        List<Element> elements = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Protocol p = i % 2 == 0 ? Protocol.TCP : Protocol.UDP;
            int port = 1025 + i / 2;
            elements.add(new Element(p, port, RemoteFilter.ANY, lan, port, KernelRuleset.mark(p, port)));
        }
        InetAddress wan = InetAddress.getByName("203.0.113.1");
        try (Nft nft = Nft.open()) {
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                nft.run(KernelRuleset.table(wan, "gwwan", List.of("gwlan"), List.of(), elements));
                long t1 = System.nanoTime();
                nft.run(KernelRuleset.counters(elements));
                long t2 = System.nanoTime();
                nft.run(KernelRuleset.refill(List.of(), elements));
                long t3 = System.nanoTime();
                nft.run(KernelRuleset.counters(elements));
                long t4 = System.nanoTime();
                nft.run("delete table inet " + KernelRuleset.TABLE);
                System.out.printf("restore of %d mappings: clean start %d ms to forwarding (+%d ms counters); "
                                + "after kill -9 %d ms to forwarding (+%d ms counters)%n", n, ms(t1 - t0), ms(t2 - t1),
                        ms(t3 - t2), ms(t4 - t3));
            }
        }
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }
}
