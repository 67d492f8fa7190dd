package io.natgw.it.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * New TCP connections per second through a mapping: {@code RelayConnRate HOST PORT SECONDS THREADS}. Each
 * connection connects, reads one byte the server sends (so it went end to end), and closes. Bounded by time.
 * Prints {@code conn/s N failures F}.
 */
public final class RelayConnRate {

    private RelayConnRate() {
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        long seconds = Long.parseLong(args[2]);
        int threads = Integer.parseInt(args[3]);
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> futures = new ArrayList<>();
        long start = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            futures.add(pool.submit(() -> {
                while (System.nanoTime() < end) {
                    try (Socket s = new Socket()) {
                        s.setSoLinger(true, 0); // RST: no TIME_WAIT pile-up on the client's ports
                        s.connect(new InetSocketAddress(host, port), 2000);
                        s.setSoTimeout(2000);
                        InputStream in = s.getInputStream();
                        if (in.read() < 0) {
                            failed.incrementAndGet();
                        } else {
                            ok.incrementAndGet();
                        }
                    } catch (IOException e) {
                        failed.incrementAndGet();
                    }
                }
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        System.out.printf("conn/s %.0f failures %d%n", ok.get() / elapsed, failed.get());
    }
}
