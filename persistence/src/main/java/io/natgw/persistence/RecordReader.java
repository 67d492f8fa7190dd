package io.natgw.persistence;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Reads framed records from a file one by one, from just after the header, and says exactly where and why
 * it stopped. Holds at most one buffer of the file in memory.
 */
final class RecordReader {

    /** What the next read found. */
    sealed interface Step {
    }

    /** A whole, intact record starting at {@code offset}. */
    record Read(long offset, JournalRecord record) implements Step {
    }

    /** The file ends cleanly at {@code offset}. */
    record End(long offset) implements Step {
    }

    /** The file ends inside the record at {@code offset}: an append that never completed. */
    record Torn(long offset, String what) implements Step {
    }

    /** The record at {@code offset} is damaged: nothing from here on can be trusted. */
    record Corrupt(long offset, String what) implements Step {
    }

    private final FileChannel channel;
    private final ByteBuffer buf = ByteBuffer.allocate(RecordCodec.MAX_BODY + RecordCodec.FRAME_BYTES);
    private long offset;
    private long fileOffsetOfLimit;

    RecordReader(FileChannel channel, long start) {
        this.channel = channel;
        this.offset = start;
        this.fileOffsetOfLimit = start;
        buf.limit(0);
    }

    Step next() throws IOException {
        if (!ensure(1)) {
            return new End(offset);
        }
        if (!ensure(RecordCodec.FRAME_BYTES)) {
            return new Torn(offset, "the file ends " + buf.remaining() + " bytes into the record's "
                    + RecordCodec.FRAME_BYTES + "-byte frame");
        }
        int length = buf.getInt(buf.position());
        if (length < 1 || length > RecordCodec.MAX_BODY) {
            return new Corrupt(offset, "impossible length " + Integer.toUnsignedString(length)
                    + " (accepted: 1-" + RecordCodec.MAX_BODY + ")");
        }
        if (!ensure(RecordCodec.FRAME_BYTES + length)) {
            return new Torn(offset, "the file ends " + buf.remaining() + " bytes into a record of "
                    + (RecordCodec.FRAME_BYTES + length) + " bytes");
        }
        int p = buf.position(); // ensure() may have moved the bytes to the buffer's start
        int stored = buf.getInt(p + 4);
        ByteBuffer body = buf.duplicate().position(p + RecordCodec.FRAME_BYTES).limit(p + RecordCodec.FRAME_BYTES + length).slice();
        int computed = RecordCodec.crc(body);
        if (computed != stored) {
            return new Corrupt(offset, String.format("CRC32C mismatch (stored 0x%08x, computed 0x%08x)", stored, computed));
        }
        JournalRecord record;
        try {
            record = RecordCodec.decodeBody(body);
        } catch (RecordFormatException e) {
            return new Corrupt(offset, e.getMessage());
        }
        long at = offset;
        buf.position(p + RecordCodec.FRAME_BYTES + length);
        offset += RecordCodec.FRAME_BYTES + length;
        return new Read(at, record);
    }

    /**
     * After a corrupt record: how many records start at {@code from} when walked by their length fields, the
     * corrupt one included (best effort, to tell the operator what was dropped); at least 1.
     */
    static long countFrom(FileChannel channel, long from, long size) throws IOException {
        ByteBuffer frame = ByteBuffer.allocate(4);
        long count = 0;
        long at = from;
        while (at + 4 <= size) {
            frame.clear();
            while (frame.hasRemaining() && channel.read(frame, at + frame.position()) > 0) {
                // read the whole length field
            }
            int length = frame.getInt(0);
            if (length < 1 || length > RecordCodec.MAX_BODY) {
                break;
            }
            count++;
            at += RecordCodec.FRAME_BYTES + (long) length;
        }
        return Math.max(1, count);
    }

    /**
     * After a damaged record: the offset of the next intact record at or after {@code from} (its length is
     * possible, its CRC32C matches and it decodes), or -1 when none is left. A wrong match needs a 32-bit CRC
     * collision on bytes that also decode, so recovery can go on from there.
     */
    static long findNext(FileChannel channel, long from, long size) throws IOException {
        ByteBuffer window = ByteBuffer.allocate(64 * 1024);
        for (long base = from; base + RecordCodec.FRAME_BYTES <= size; ) {
            window.clear();
            int n = 0;
            while (window.hasRemaining()) {
                int read = channel.read(window, base + n);
                if (read <= 0) {
                    break;
                }
                n += read;
            }
            int last = n - RecordCodec.FRAME_BYTES;
            for (int i = 0; i <= last; i++) {
                int length = window.getInt(i);
                long at = base + i;
                if (length < 1 || length > RecordCodec.MAX_BODY || at + RecordCodec.FRAME_BYTES + length > size) {
                    continue;
                }
                ByteBuffer body = ByteBuffer.allocate(length);
                while (body.hasRemaining() && channel.read(body, at + RecordCodec.FRAME_BYTES + body.position()) > 0) {
                    // read the whole body
                }
                body.flip();
                if (RecordCodec.crc(body.duplicate()) != window.getInt(i + 4)) {
                    continue;
                }
                try {
                    RecordCodec.decodeBody(body);
                    return at;
                } catch (RecordFormatException e) {
                    // a CRC collision on bytes that are no record: keep looking
                }
            }
            if (last < 0) {
                break;
            }
            base += last + 1;
        }
        return -1;
    }

    /** Whether the file holds nothing but zero bytes from {@code from} to {@code size}: space the disk never filled. */
    static boolean onlyZerosFrom(FileChannel channel, long from, long size) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
        long at = from;
        while (at < size) {
            chunk.clear();
            int read = channel.read(chunk, at);
            if (read <= 0) {
                return false;
            }
            for (int i = 0; i < read; i++) {
                if (chunk.get(i) != 0) {
                    return false;
                }
            }
            at += read;
        }
        return true;
    }

    /** Makes at least {@code n} bytes available at the buffer's position; false when the file has fewer. */
    private boolean ensure(int n) throws IOException {
        if (buf.remaining() >= n) {
            return true;
        }
        buf.compact();
        while (buf.position() < n) {
            int read = channel.read(buf, fileOffsetOfLimit);
            if (read <= 0) {
                break;
            }
            fileOffsetOfLimit += read;
        }
        buf.flip();
        return buf.remaining() >= n;
    }
}
