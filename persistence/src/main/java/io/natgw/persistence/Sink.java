package io.natgw.persistence;

import java.nio.ByteBuffer;

/** A growable heap buffer that framed records are encoded into before one write. */
final class Sink {
    private ByteBuffer buf;

    Sink(int initialCapacity) {
        buf = ByteBuffer.allocate(initialCapacity);
    }

    void clear() {
        buf.clear();
    }

    int position() {
        return buf.position();
    }

    void position(int p) {
        ensure(p - buf.position());
        buf.position(p);
    }

    /** The bytes written so far, as a read-only view ready to be written to a channel. */
    ByteBuffer written() {
        return buf.duplicate().flip();
    }

    /** The bytes from {@code from} to the current position. */
    ByteBuffer slice(int from) {
        return buf.duplicate().position(from).limit(buf.position()).slice();
    }

    void putIntAt(int index, int value) {
        buf.putInt(index, value);
    }

    Sink u8(int v) {
        ensure(1);
        buf.put((byte) v);
        return this;
    }

    Sink u16(int v) {
        ensure(2);
        buf.putShort((short) v);
        return this;
    }

    Sink i32(int v) {
        ensure(4);
        buf.putInt(v);
        return this;
    }

    Sink i64(long v) {
        ensure(8);
        buf.putLong(v);
        return this;
    }

    Sink bytes(byte[] b) {
        ensure(b.length);
        buf.put(b);
        return this;
    }

    private void ensure(int n) {
        if (buf.remaining() >= n) {
            return;
        }
        int capacity = buf.capacity();
        while (capacity - buf.position() < n) {
            capacity *= 2;
        }
        ByteBuffer bigger = ByteBuffer.allocate(capacity);
        buf.flip();
        bigger.put(buf);
        buf = bigger;
    }
}
