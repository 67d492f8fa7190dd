package io.natgw.it.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The floor under every acknowledged add: what the disk of a directory takes for the journal's durable step alone, a
 * small record written into zero-filled preallocated space and {@code FileChannel.force(false)} (fdatasync), as
 * natgw's journal does once per batch. No natgw code runs; the figure says how much of natgw's p50 and p99 is the
 * disk's. Usage: {@code DiskSyncFloor DIR [COUNT (default 2000)]}; prints one line: COUNT, p50, p99, max in ms.
 */
public final class DiskSyncFloor {

    private DiskSyncFloor() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        Path file = Files.createTempFile(dir, "sync-floor", ".bin");
        long[] nanos = new long[count];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocate(1 << 20);
            ch.write(zeros, 0); // preallocated and zero-filled, as the journal keeps 1 MiB ahead
            ch.force(true);
            ByteBuffer record = ByteBuffer.allocate(64);
            for (int i = 0; i < count; i++) {
                record.clear();
                record.putLong(0, i);
                long t0 = System.nanoTime();
                ch.write(record, (long) i * 64 % (1 << 20));
                ch.force(false);
                nanos[i] = System.nanoTime() - t0;
            }
        } finally {
            Files.deleteIfExists(file);
        }
        Arrays.sort(nanos);
        System.out.printf("fdatasync floor: %d writes, p50 %.3f ms, p99 %.3f ms, max %.3f ms%n", count,
                BenchSupport.millisAt(nanos, 0.50), BenchSupport.millisAt(nanos, 0.99), nanos[count - 1] / 1e6);
    }
}
