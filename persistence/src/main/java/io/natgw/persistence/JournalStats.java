package io.natgw.persistence;

import java.time.Duration;
import java.util.List;

/**
 * What the journal has done since it was opened, for metrics.
 *
 * @param commits        batches made durable (each is one write and one fsync)
 * @param records        records appended (a batch of N changes is N records or more)
 * @param bytes          bytes appended to the journal
 * @param fsyncs         {@code force} calls on journal, snapshot and directory
 * @param fsyncNanos     their total duration
 * @param fsyncMaxNanos  the longest one
 * @param fsyncHistogram counts per bucket: {@code fsyncHistogram[i]} counts fsyncs that took at most
 *                       {@code BUCKET_BOUNDS[i]} (and more than the bound before); the last counts the rest
 * @param compactions    snapshots written
 * @param liveMappings   rows the store holds now
 * @param journalRecords records in the current journal (since the last snapshot)
 */
public record JournalStats(long commits, long records, long bytes, long fsyncs, long fsyncNanos, long fsyncMaxNanos,
                           List<Long> fsyncHistogram, long compactions, long liveMappings, long journalRecords) {

    /** Upper bounds of the fsync latency buckets. */
    public static final List<Duration> BUCKET_BOUNDS = List.of(
            Duration.ofNanos(50_000), Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000),
            Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5), Duration.ofMillis(10),
            Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
            Duration.ofSeconds(1));

    public JournalStats {
        fsyncHistogram = List.copyOf(fsyncHistogram);
        if (fsyncHistogram.size() != BUCKET_BOUNDS.size() + 1) {
            throw new IllegalArgumentException("histogram has " + fsyncHistogram.size() + " buckets (expected: "
                    + (BUCKET_BOUNDS.size() + 1) + ")");
        }
    }

    /** Mean fsync duration; zero before the first. */
    public Duration fsyncMean() {
        return fsyncs == 0 ? Duration.ZERO : Duration.ofNanos(fsyncNanos / fsyncs);
    }

    /**
     * The bucket bound below which at least {@code q} of the fsyncs fell (an upper estimate of the quantile);
     * {@code null} before the first fsync; the maximum when it falls in the last, open bucket.
     */
    public Duration fsyncQuantile(double q) {
        if (q < 0 || q > 1) {
            throw new IllegalArgumentException("quantile " + q + " is out of range (accepted: 0-1)");
        }
        if (fsyncs == 0) {
            return null;
        }
        long wanted = (long) Math.ceil(q * fsyncs);
        long seen = 0;
        for (int i = 0; i < BUCKET_BOUNDS.size(); i++) {
            seen += fsyncHistogram.get(i);
            if (seen >= wanted) {
                return BUCKET_BOUNDS.get(i);
            }
        }
        return Duration.ofNanos(fsyncMaxNanos);
    }

    /** Accumulates the figures; owned by the store, read by any thread. */
    static final class Recorder {
        private long commits;
        private long records;
        private long bytes;
        private long fsyncs;
        private long fsyncNanos;
        private long fsyncMaxNanos;
        private final long[] histogram = new long[BUCKET_BOUNDS.size() + 1];
        private long compactions;

        synchronized void commit(int recordCount, long byteCount) {
            commits++;
            records += recordCount;
            bytes += byteCount;
        }

        synchronized void fsync(long nanos) {
            fsyncs++;
            fsyncNanos += nanos;
            fsyncMaxNanos = Math.max(fsyncMaxNanos, nanos);
            int i = 0;
            while (i < BUCKET_BOUNDS.size() && nanos > BUCKET_BOUNDS.get(i).toNanos()) {
                i++;
            }
            histogram[i]++;
        }

        synchronized void compaction() {
            compactions++;
        }

        synchronized JournalStats snapshot(long live, long journalRecords) {
            Long[] h = new Long[histogram.length];
            for (int i = 0; i < h.length; i++) {
                h[i] = histogram[i];
            }
            return new JournalStats(commits, records, bytes, fsyncs, fsyncNanos, fsyncMaxNanos, List.of(h), compactions,
                    live, journalRecords);
        }
    }
}
