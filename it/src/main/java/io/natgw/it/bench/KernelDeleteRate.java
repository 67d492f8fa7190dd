package io.natgw.it.bench;

import io.natgw.conf.Protocol;
import io.natgw.core.RemoteFilter;
import io.natgw.dataplane.kernel.KernelRuleset;
import io.natgw.dataplane.kernel.KernelRuleset.Element;
import io.natgw.dataplane.kernel.Nft;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A kernel-forwarding delete's nftables cost against the table size, before and after its counters were left to the
 * retirement pass (run as root inside a scratch network namespace:
 * {@code ip netns exec NS java -cp natgw.jar:CLASSES io.natgw.it.bench.KernelDeleteRate [DELETES] [SIZES...]}).
 * For each size, natgw's own table ({@link KernelRuleset#table}, then {@link KernelRuleset#counters}) with that many
 * NAT mappings, then DELETES deletes timed two ways, each followed by the (untimed) re-add that keeps the size:
 * <ul>
 *   <li>before: {@code get element} on {@code rx} and on {@code tx} for the removed mark (what the forwarder did to keep
 *       its counters for the totals), then the transaction deleting its forwarding and counter elements;</li>
 *   <li>after: the transaction deleting its forwarding elements only (what the forwarder does now; the counters are
 *       retired later, once per period for every removal).</li>
 * </ul>
 * and the retirement pass's reads (both counter sets listed, once per period while removals wait, off the writer).
 * Creates natgw's table {@code inet natgw} in the namespace and deletes it at the end: never run it where natgw runs.
 */
public final class KernelDeleteRate {

    private KernelDeleteRate() {
    }

    public static void main(String[] args) throws Exception {
        int deletes = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        List<Integer> sizes = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            sizes.add(Integer.parseInt(args[i]));
        }
        if (sizes.isEmpty()) {
            sizes = List.of(100, 1_000, 10_000);
        }
        InetAddress wan = InetAddress.getByName("203.0.113.1");
        InetAddress host = InetAddress.getByName("192.168.77.10");
        try (Nft nft = Nft.open()) {
            System.out.println("elements | before: deletes/s (median ms) | after: deletes/s (median ms) | retirement pass ms");
            for (int size : sizes) {
                List<Element> all = new ArrayList<>();
                for (int i = 0; i < size; i++) {
                    Protocol p = i < 65535 ? Protocol.TCP : Protocol.UDP;
                    int port = 1 + i % 65535;
                    all.add(new Element(p, port, RemoteFilter.ANY, host, port, KernelRuleset.mark(p, port)));
                }
                nft.run(KernelRuleset.table(wan, "benchwan0", List.of("benchlan0"), true, false, List.of(), all));
                nft.run(KernelRuleset.counters(all));
                long[] before = new long[deletes];
                long[] after = new long[deletes];
                for (int i = 0; i < deletes; i++) {
                    Element e = all.get((i * 7919) % size);
                    String mark = "0x" + Long.toHexString(e.mark());
                    long t0 = System.nanoTime();
                    nft.run("get element inet natgw rx { " + mark + " }");
                    nft.run("get element inet natgw tx { " + mark + " }");
                    nft.run(KernelRuleset.changes(List.of(e), List.of(), List.of(), List.of(), List.of(e.mark())));
                    before[i] = System.nanoTime() - t0;
                    nft.run(KernelRuleset.changes(List.of(), List.of(e), List.of(), List.of(), List.of()));

                    t0 = System.nanoTime();
                    nft.run(KernelRuleset.changes(List.of(e), List.of(), List.of(), List.of(), List.of()));
                    after[i] = System.nanoTime() - t0;
                    // the re-add retires the old counters in its batch (the forwarder's re-use path), untimed
                    nft.run(KernelRuleset.changes(List.of(), List.of(e), List.of(), List.of(), List.of(e.mark())));
                }
                // the retirement pass's reads (once per period, off the writer): both counter sets listed
                long t0 = System.nanoTime();
                nft.json("list set inet natgw rx");
                nft.json("list set inet natgw tx");
                long pass = System.nanoTime() - t0;
                System.out.printf("%8d | %8.1f (%.2f) | %8.1f (%.2f) | %.0f%n", size, rate(before), median(before),
                        rate(after), median(after), pass / 1e6);
                nft.run("delete table inet natgw");
            }
        }
    }

    private static double rate(long[] v) {
        return v.length / (Arrays.stream(v).sum() / 1e9);
    }

    private static double median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2] / 1e6;
    }
}
