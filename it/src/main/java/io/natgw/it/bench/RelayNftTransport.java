package io.natgw.it.bench;

import io.natgw.dataplane.kernel.Nft;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * How natgw talks to nftables, measured (run as root inside a scratch network namespace:
 * {@code ip netns exec NS java -cp natgw.jar:CLASSES io.natgw.it.bench.RelayNftTransport [OPS] [ELEMENTS]}):
 * one element added and deleted per transaction through libnftables in-process (what natgw does), the same
 * through one {@code nft -f -} process per transaction (a fork per change), and ELEMENTS elements added in one
 * transaction (a restore). Creates and removes its own table {@code inet natgwbench}.
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
            System.out.printf("libnftables in-process, 1 element per transaction: median %.3f ms, p99 %.3f ms (%d)%n",
                    median(lib), p99(lib), ops);
            System.out.printf("nft -f - per transaction (a fork each):            median %.3f ms, p99 %.3f ms (%d)%n",
                    median(fork), p99(fork), forks);
            System.out.printf("libnftables, %d elements in one transaction:   %.0f ms%n", Math.min(elements, 131070), bulk / 1e6);
        }
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
