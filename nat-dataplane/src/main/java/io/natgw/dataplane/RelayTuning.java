package io.natgw.dataplane;

import java.util.Locale;
import java.util.Properties;

/**
 * Relay tuning read from system properties (not part of the YAML configuration): which transport to use, how many
 * event loops, how large a read may grow, whether each read is flushed to the other side at once or once per read
 * loop, and the socket buffers. The defaults are what the relay benchmark supports (the alternatives measured the
 * same or worse there, see the README); the properties are for measuring on other machines.
 *
 * <ul>
 *   <li>{@code natgw.dataplane.transport}: {@code auto} (default: epoll, else NIO), {@code epoll}, {@code io_uring},
 *       {@code nio}</li>
 *   <li>{@code natgw.dataplane.threads}: event loops (default: the number of cores, at least 2)</li>
 *   <li>{@code natgw.dataplane.readKiB}: the largest read in KiB (default 256)</li>
 *   <li>{@code natgw.dataplane.flush}: {@code batch} (default: once per read loop) or {@code read} (each read is
 *       written through at once); for the relays on Netty channel pairs only ({@link DirectTcpRelay}, the copy relay
 *       on epoll, writes each read at once)</li>
 *   <li>{@code natgw.dataplane.socketBufferKiB}: SO_RCVBUF and SO_SNDBUF of relayed connections (default 0: the
 *       kernel's autotuning)</li>
 * </ul>
 */
record RelayTuning(String transport, int threads, int readBytes, boolean flushEachRead, int socketBuffer) {

    static final RelayTuning DEFAULTS = new RelayTuning("auto", Math.max(2, Runtime.getRuntime().availableProcessors()),
            256 * 1024, false, 0);

    static RelayTuning fromSystemProperties() {
        return from(System.getProperties());
    }

    /** Reads the {@code natgw.dataplane.*} properties; an unknown or out-of-range value is refused. */
    static RelayTuning from(Properties p) {
        String transport = p.getProperty("natgw.dataplane.transport", DEFAULTS.transport).trim().toLowerCase(Locale.ROOT);
        int threads = integer(p, "natgw.dataplane.threads", DEFAULTS.threads);
        int readKiB = integer(p, "natgw.dataplane.readKiB", DEFAULTS.readBytes / 1024);
        String flush = p.getProperty("natgw.dataplane.flush", "batch").trim().toLowerCase(Locale.ROOT);
        int socketKiB = integer(p, "natgw.dataplane.socketBufferKiB", 0);
        if (!Transport.NAMES.contains(transport)) {
            throw new IllegalArgumentException("natgw.dataplane.transport: unknown transport '" + transport
                    + "' (one of " + Transport.NAMES + ")");
        }
        if (threads < 1 || readKiB < 1 || readKiB > 16 * 1024 || socketKiB < 0 || socketKiB > 64 * 1024
                || !(flush.equals("read") || flush.equals("batch"))) {
            throw new IllegalArgumentException("bad natgw.dataplane.* property: threads " + threads + ", readKiB "
                    + readKiB + ", flush " + flush + ", socketBufferKiB " + socketKiB);
        }
        return new RelayTuning(transport, threads, readKiB * 1024, flush.equals("read"), socketKiB * 1024);
    }

    private static int integer(Properties p, String name, int otherwise) {
        String v = p.getProperty(name);
        if (v == null) {
            return otherwise;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": not a number: '" + v + "'", e);
        }
    }
}
