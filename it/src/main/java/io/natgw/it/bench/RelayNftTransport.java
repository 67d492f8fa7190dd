package io.natgw.it.bench;

import io.natgw.conf.Protocol;
import io.natgw.core.RemoteFilter;
import io.natgw.dataplane.kernel.KernelRuleset;
import io.natgw.dataplane.kernel.Nft;
import io.natgw.dataplane.kernel.NftNetlink;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * How natgw talks to nftables, measured (run as root inside a scratch network namespace:
 * {@code ip netns exec NS java -cp natgw.jar:CLASSES io.natgw.it.bench.RelayNftTransport [OPS] [ELEMENTS]}):
 * one element added and deleted per transaction through libnftables in-process (what natgw does), the same
 * through one {@code nft -f -} process per transaction (a fork per change), and ELEMENTS elements added in one
 * transaction (a restore). Creates and removes its own table {@code inet natgwbench}. Then natgw's own change, as
 * the writer sends it: a mapping's add (4 elements: {@code dnat4}, {@code mark4}, {@code rx}, {@code tx}) and its
 * delete, in natgw's real table ({@code inet natgw}, created and removed here), through libnftables and over
 * nf_tables netlink ({@link NftNetlink}), alternating so both see the same machine.
 */
public final class RelayNftTransport {

    private RelayNftTransport() {
    }

    public static void main(String[] args) throws Exception {
        int ops = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        int elements = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
        String table = "table inet natgwbench {\n  map m { type inet_proto . inet_service : ipv4_addr . inet_service; }\n}\n";
        try (Nft nft = Nft.open()) {
            nft.run("table inet natgwbench {}\ndelete table inet natgwbench\n" + table);
            long[] lib = new long[ops];
            for (int i = 0; i < ops; i++) {
                int port = 1024 + i % 60000;
                long t0 = System.nanoTime();
                nft.run("add element inet natgwbench m { tcp . " + port + " : 192.168.77.10 . " + port + " }\n");
                lib[i] = System.nanoTime() - t0;
                nft.run("delete element inet natgwbench m { tcp . " + port + " }\n");
            }
            int forks = Math.max(1, ops / 10);
            long[] fork = new long[forks];
            for (int i = 0; i < forks; i++) {
                int port = 1024 + i;
                long t0 = System.nanoTime();
                Process p = new ProcessBuilder("nft", "-f", "-").redirectErrorStream(true).start();
                try (OutputStream in = p.getOutputStream()) {
                    in.write(("add element inet natgwbench m { tcp . " + port + " : 192.168.77.10 . " + port + " }\n")
                            .getBytes(StandardCharsets.US_ASCII));
                }
                p.getInputStream().readAllBytes();
                if (p.waitFor() != 0) {
                    throw new IllegalStateException("nft failed");
                }
                fork[i] = System.nanoTime() - t0;
                nft.run("delete element inet natgwbench m { tcp . " + port + " }\n");
            }
            StringBuilder sb = new StringBuilder("add element inet natgwbench m { ");
            for (int i = 0; i < elements; i++) {
                int port = 1 + i % 65535;
                sb.append(i == 0 ? "" : ", ").append(i < 65535 ? "tcp" : "udp").append(" . ").append(port)
                        .append(" : 192.168.77.10 . ").append(port);
            }
            sb.append(" }\n");
            long t0 = System.nanoTime();
            nft.run(sb.toString());
            long bulk = System.nanoTime() - t0;
            nft.run("delete table inet natgwbench");
            long[][] natgw = natgwChange(nft, ops);
            System.out.printf("natgw's add (4 elements), libnftables:            median %.3f ms, p99 %.3f ms (%d)%n",
                    median(natgw[0]), p99(natgw[0]), ops);
            System.out.printf("natgw's add (4 elements), nf_tables netlink:      median %.3f ms, p99 %.3f ms (%d)%n",
                    median(natgw[1]), p99(natgw[1]), ops);
            System.out.printf("natgw's delete, libnftables:                      median %.3f ms, p99 %.3f ms (%d)%n",
                    median(natgw[2]), p99(natgw[2]), ops);
            System.out.printf("natgw's delete, nf_tables netlink:                median %.3f ms, p99 %.3f ms (%d)%n",
                    median(natgw[3]), p99(natgw[3]), ops);
            System.out.printf("libnftables in-process, 1 element per transaction: median %.3f ms, p99 %.3f ms (%d)%n",
                    median(lib), p99(lib), ops);
            System.out.printf("nft -f - per transaction (a fork each):            median %.3f ms, p99 %.3f ms (%d)%n",
                    median(fork), p99(fork), forks);
            System.out.printf("libnftables, %d elements in one transaction:   %.0f ms%n", Math.min(elements, 131070), bulk / 1e6);
        }
    }

    /** A mapping's add and delete in natgw's table: {libnftables add, netlink add, libnftables delete, netlink delete}. */
    private static long[][] natgwChange(Nft nft, int ops) throws Exception {
        java.net.InetAddress wan = java.net.InetAddress.getByName("203.0.113.1");
        java.net.InetAddress host = java.net.InetAddress.getByName("192.168.77.10");
        nft.run(KernelRuleset.table(wan, "wan0", java.util.List.of("lan0"), java.util.List.of(), java.util.List.of()));
        long[][] out = new long[4][ops];
        try (NftNetlink netlink = NftNetlink.open()) {
            for (int i = 0; i < ops; i++) {
                int port = 1024 + i % 60000;
                KernelRuleset.Element e = new KernelRuleset.Element(Protocol.TCP, port, RemoteFilter.ANY, host, port,
                        KernelRuleset.mark(Protocol.TCP, port));
                KernelRuleset.Transaction add = KernelRuleset.transaction(java.util.List.of(), java.util.List.of(e),
                        java.util.List.of(), java.util.List.of(), java.util.List.of());
                KernelRuleset.Transaction delete = KernelRuleset.transaction(java.util.List.of(e), java.util.List.of(),
                        java.util.List.of(), java.util.List.of(), java.util.List.of(e.mark()));
                long t0 = System.nanoTime();
                nft.run(add.text());
                long t1 = System.nanoTime();
                nft.run(delete.text());
                long t2 = System.nanoTime();
                netlink.apply(KernelRuleset.TABLE, add.netlinkChanges());
                long t3 = System.nanoTime();
                netlink.apply(KernelRuleset.TABLE, delete.netlinkChanges());
                long t4 = System.nanoTime();
                out[0][i] = t1 - t0;
                out[2][i] = t2 - t1;
                out[1][i] = t3 - t2;
                out[3][i] = t4 - t3;
            }
        } finally {
            nft.run("delete table inet " + KernelRuleset.TABLE);
        }
        return out;
    }

    private static double median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2] / 1e6;
    }

    private static double p99(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[(int) Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)] / 1e6;
    }
}
