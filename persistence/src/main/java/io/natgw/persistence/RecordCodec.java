package io.natgw.persistence;

import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import io.natgw.core.Origin;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.zip.CRC32C;

/**
 * Bytes of the journal and the snapshot, both the same format. Pure: records in, bytes out and back;
 * no files, no clock. All numbers are big-endian.
 *
 * <pre>
 * file header (28 bytes)
 *   magic u32 "NGWJ" | version u16 | file type u8 (1 journal, 2 snapshot) | reserved u8 (0)
 *   generation i64 | written-at epoch millis i64 | CRC32C u32 of the 24 bytes before it
 * record
 *   length u32 (bytes of type + payload, 1..MAX_BODY) | CRC32C u32 of type + payload | type u8 | payload
 * PUT (4)    = protocol u8 (IANA number) | external port u16 | filter | internal address | internal port u16
 *              | owner address | origin u8 | nonce str | kind u8 | description str
 *              | created-at instant | expires-at present u8 (0 = never) [instant] | enabled u8
 *              | pinhole id u16 (0 for a NAT mapping; 1-65535 for a pinhole, whose internal address is IPv6)
 * REMOVE (5) = protocol u8 | external port u16 | filter | host address (length 0 = a NAT mapping's key; the
 *              pinhole's IPv6 address)
 * STATE (3)  = epoch start instant | external address (length 0 = unknown)
 * filter     = address (length 0 = any) | prefix length u8 | remote port u16
 * address    = length u8 (0, 4 or 16) | bytes
 * str        = length u32 | UTF-8 bytes
 * instant    = epoch seconds i64 | nanos i32 (lossless, so a recovered row equals the committed one)
 * </pre>
 *
 * <p>Format versions: 2 (this one) added pinholes: PUT and REMOVE became types 4 and 5 (a type names its layout,
 * so a record of a type this release does not know is refused as corrupt, as damage is). Files of version 1 are
 * still read: their PUT (1) is PUT (4) without the pinhole id, their REMOVE (2) is REMOVE (5) without the host. A
 * version-1 PUT whose internal address is IPv6 (an IPv4 port relayed to an IPv6 host, which this release no longer
 * makes: an IPv6 host gets a pinhole) is read as {@link JournalRecord.Obsolete}. Only version 2 is written; a data
 * directory of version 1 is rewritten as version 2 once recovered.
 */
final class RecordCodec {

    static final int MAGIC = 0x4E47574A; // "NGWJ"
    /** The format this release writes. */
    static final int VERSION = 2;
    /** The oldest format this release reads. */
    static final int OLDEST_READABLE = 1;
    static final int HEADER_BYTES = 28;
    static final int FRAME_BYTES = 8;
    /** Largest type + payload accepted: a mapping record is ~100 bytes; this only bounds damage. */
    static final int MAX_BODY = 1 << 20;

    enum FileType {
        JOURNAL(1), SNAPSHOT(2);

        final int code;

        FileType(int code) {
            this.code = code;
        }
    }

    /** What a file header says. */
    record Header(FileType fileType, long generation, long writtenAtMillis, int version) {
        /** A header of the format this release writes. */
        Header(FileType fileType, long generation, long writtenAtMillis) {
            this(fileType, generation, writtenAtMillis, VERSION);
        }
    }

    private RecordCodec() {
    }

    static ByteBuffer encodeHeader(Header h) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
        b.putInt(MAGIC).putShort((short) h.version()).put((byte) h.fileType().code).put((byte) 0)
                .putLong(h.generation()).putLong(h.writtenAtMillis());
        b.putInt(crc(b.duplicate().flip()));
        return b.flip();
    }

    /** Decodes the first {@link #HEADER_BYTES} of a file, or says what is wrong with them. */
    static Header decodeHeader(ByteBuffer b, FileType expected) throws RecordFormatException {
        if (b.remaining() < HEADER_BYTES) {
            throw new RecordFormatException("incomplete header: " + b.remaining() + " bytes (expected: " + HEADER_BYTES + ")");
        }
        int start = b.position();
        int magic = b.getInt();
        int version = b.getShort() & 0xffff;
        int type = b.get() & 0xff;
        b.get();
        long generation = b.getLong();
        long writtenAt = b.getLong();
        int stored = b.getInt();
        if (magic != MAGIC) {
            throw new RecordFormatException(String.format("magic 0x%08x is not a natgw journal's (expected: 0x%08x \"NGWJ\")", magic, MAGIC));
        }
        int computed = crc(b.duplicate().position(start).limit(start + HEADER_BYTES - 4));
        if (stored != computed) {
            throw new RecordFormatException(String.format("header CRC32C 0x%08x does not match its bytes (0x%08x)", stored, computed));
        }
        if (version < OLDEST_READABLE || version > VERSION) {
            throw new RecordFormatException("format version " + version + " is not supported (expected: "
                    + OLDEST_READABLE + "-" + VERSION + "; a later release wrote it?)");
        }
        if (type != expected.code) {
            throw new RecordFormatException("file type " + type + " (expected: " + expected.code + " for a " + expected.name().toLowerCase() + ")");
        }
        if (generation < 0) {
            throw new RecordFormatException("generation " + generation + " is negative");
        }
        return new Header(expected, generation, writtenAt, version);
    }

    /** Appends one framed record to {@code out}. */
    static void append(JournalRecord r, Sink out) {
        int start = out.position();
        out.position(start + FRAME_BYTES);
        out.u8(r.type());
        encodeBody(r, out);
        int bodyLength = out.position() - start - FRAME_BYTES;
        if (bodyLength > MAX_BODY) {
            throw new IllegalArgumentException("record of " + bodyLength + " bytes is larger than " + MAX_BODY
                    + " (the description is too long)");
        }
        out.putIntAt(start, bodyLength);
        out.putIntAt(start + 4, crc(out.slice(start + FRAME_BYTES)));
    }

    private static void encodeBody(JournalRecord r, Sink out) {
        if (r instanceof JournalRecord.Put p) {
            Mapping m = p.mapping();
            out.u8(m.protocol().ianaNumber()).u16(m.externalPort());
            filter(m.remote(), out);
            address(m.internal().address(), out);
            out.u16(m.internal().port());
            address(m.owner().address(), out);
            out.u8(originCode(m.owner().origin()));
            string(m.nonce(), out);
            out.u8(kindCode(m.kind()));
            string(m.description(), out);
            instant(m.createdAt(), out);
            if (m.expiresAt() == null) {
                out.u8(0);
            } else {
                out.u8(1);
                instant(m.expiresAt(), out);
            }
            out.u8(m.enabled() ? 1 : 0);
            out.u16(m.pinholeId());
        } else if (r instanceof JournalRecord.Remove rm) {
            MappingKey k = rm.key();
            out.u8(k.protocol().ianaNumber()).u16(k.externalPort());
            filter(k.remote(), out);
            address(k.host(), out);
        } else if (r instanceof JournalRecord.State s) {
            instant(s.epochStart(), out);
            address(s.externalAddress(), out);
        } else {
            throw new IllegalArgumentException("not a record to write: " + r);
        }
    }

    /**
     * Decodes type + payload (the CRC has been checked by the caller).
     *
     * @throws RecordFormatException naming the field that is wrong and what was expected
     */
    static JournalRecord decodeBody(ByteBuffer body) throws RecordFormatException {
        Field f = new Field("type");
        try {
            int type = body.get() & 0xff;
            JournalRecord r = switch (type) {
                case JournalRecord.Put.TYPE -> new JournalRecord.Put(mapping(body, f, true));
                case JournalRecord.Remove.TYPE -> new JournalRecord.Remove(key(body, f, true));
                case JournalRecord.Put.TYPE_V1 -> putV1(body, f);
                case JournalRecord.Remove.TYPE_V1 -> new JournalRecord.Remove(key(body, f, false));
                case JournalRecord.State.TYPE -> {
                    f.name = "epoch start";
                    Instant epoch = instant(body);
                    f.name = "external address";
                    yield new JournalRecord.State(epoch, address(body, true));
                }
                default -> throw new RecordFormatException("unknown record type " + type
                        + " (expected: 4 put, 5 remove, 3 state; 1 and 2 of format 1)");
            };
            if (body.hasRemaining()) {
                throw new RecordFormatException(body.remaining() + " bytes after the end of a type " + type + " record");
            }
            return r;
        } catch (BufferUnderflowException e) {
            throw new RecordFormatException("record ends inside field '" + f.name + "'");
        } catch (IllegalArgumentException | UnknownHostException | java.time.DateTimeException e) {
            throw new RecordFormatException("field '" + f.name + "': " + e.getMessage());
        }
    }

    static int crc(ByteBuffer b) {
        CRC32C c = new CRC32C();
        c.update(b.duplicate());
        return (int) c.getValue();
    }

    /** Which field is being read, for error messages. */
    private static final class Field {
        String name;

        Field(String name) {
            this.name = name;
        }
    }

    /** A format-1 PUT: a NAT mapping, or an obsolete row relaying an IPv4 port to an IPv6 host. */
    private static JournalRecord putV1(ByteBuffer b, Field f) throws RecordFormatException, UnknownHostException {
        int start = b.position();
        f.name = "protocol";
        b.get();
        f.name = "external port";
        b.getShort();
        f.name = "remote filter";
        filter(b);
        f.name = "internal address";
        InetAddress internal = address(b, false);
        b.position(start);
        if (internal instanceof java.net.Inet6Address) {
            Protocol protocol = protocol(b.get() & 0xff);
            int externalPort = b.getShort() & 0xffff;
            RemoteFilter remote = filter(b);
            address(b, false);
            int internalPort = b.getShort() & 0xffff;
            b.position(b.limit()); // the rest of the row no longer matters
            return new JournalRecord.Obsolete(new MappingKey(protocol, externalPort, remote),
                    protocol.label() + " " + externalPort + " relayed to [" + internal.getHostAddress() + "]:" + internalPort
                    + " (format 1); this release relays no IPv4 port to an IPv6 host, which asks for a pinhole instead");
        }
        return new JournalRecord.Put(mapping(b, f, false));
    }

    private static Mapping mapping(ByteBuffer b, Field f, boolean withId) throws RecordFormatException, UnknownHostException {
        f.name = "protocol";
        Protocol protocol = protocol(b.get() & 0xff);
        f.name = "external port";
        int externalPort = b.getShort() & 0xffff;
        f.name = "remote filter";
        RemoteFilter remote = filter(b);
        f.name = "internal address";
        InetAddress internalAddress = address(b, false);
        f.name = "internal port";
        int internalPort = b.getShort() & 0xffff;
        f.name = "owner address";
        InetAddress ownerAddress = address(b, false);
        f.name = "origin";
        Origin origin = origin(b.get() & 0xff);
        f.name = "nonce";
        String nonce = string(b);
        f.name = "kind";
        Kind kind = kind(b.get() & 0xff);
        f.name = "description";
        String description = string(b);
        f.name = "created-at";
        Instant createdAt = instant(b);
        f.name = "expires-at";
        int present = b.get() & 0xff;
        if (present > 1) {
            throw new RecordFormatException("expires-at flag " + present + " (expected: 0 never, 1 present)");
        }
        Instant expiresAt = present == 1 ? instant(b) : null;
        f.name = "enabled";
        int enabled = b.get() & 0xff;
        if (enabled > 1) {
            throw new RecordFormatException("enabled flag " + enabled + " (expected: 0 or 1)");
        }
        f.name = "pinhole id";
        int pinholeId = withId ? b.getShort() & 0xffff : 0;
        f.name = "mapping";
        return new Mapping(protocol, externalPort, remote, new Endpoint(internalAddress, internalPort),
                new Owner(ownerAddress, origin), nonce, kind, description, createdAt, expiresAt, enabled == 1, pinholeId);
    }

    private static MappingKey key(ByteBuffer b, Field f, boolean withHost) throws RecordFormatException, UnknownHostException {
        f.name = "protocol";
        Protocol protocol = protocol(b.get() & 0xff);
        f.name = "external port";
        int port = b.getShort() & 0xffff;
        f.name = "remote filter";
        RemoteFilter remote = filter(b);
        f.name = "host";
        InetAddress host = withHost ? address(b, true) : null;
        return new MappingKey(protocol, port, remote, host);
    }

    private static Protocol protocol(int iana) throws RecordFormatException {
        Protocol p = Protocol.ofIana(iana);
        if (p == null) {
            throw new RecordFormatException("protocol " + iana + " (expected: 6 tcp, 17 udp)");
        }
        return p;
    }

    // Stable on-disk codes, independent of the enums' declaration order.
    private static int originCode(Origin o) {
        return switch (o) {
            case NATPMP -> 1;
            case PCP -> 2;
            case UPNP -> 3;
            case ADMIN -> 4;
            case CONFIG -> 5;
            case TRIGGER -> 6;
        };
    }

    private static Origin origin(int code) throws RecordFormatException {
        for (Origin o : Origin.values()) {
            if (originCode(o) == code) {
                return o;
            }
        }
        throw new RecordFormatException("origin " + code + " (expected: 1-6)");
    }

    private static int kindCode(Kind k) {
        return switch (k) {
            case STATIC -> 1;
            case DYNAMIC -> 2;
            case TRIGGERED -> 3;
        };
    }

    private static Kind kind(int code) throws RecordFormatException {
        for (Kind k : Kind.values()) {
            if (kindCode(k) == code) {
                return k;
            }
        }
        throw new RecordFormatException("kind " + code + " (expected: 1 static, 2 dynamic, 3 triggered)");
    }

    private static void filter(RemoteFilter r, Sink out) {
        address(r.address(), out);
        out.u8(r.prefixLength()).u16(r.port());
    }

    private static RemoteFilter filter(ByteBuffer b) throws RecordFormatException, UnknownHostException {
        InetAddress a = address(b, true);
        int prefix = b.get() & 0xff;
        int port = b.getShort() & 0xffff;
        if (a == null && prefix != 0) {
            throw new RecordFormatException("prefix length " + prefix + " without an address (expected: 0)");
        }
        return a == null && port == 0 ? RemoteFilter.ANY : new RemoteFilter(a, prefix, port);
    }

    private static void address(InetAddress a, Sink out) {
        if (a == null) {
            out.u8(0);
        } else {
            byte[] bytes = a.getAddress();
            out.u8(bytes.length).bytes(bytes);
        }
    }

    private static InetAddress address(ByteBuffer b, boolean optional) throws RecordFormatException, UnknownHostException {
        int length = b.get() & 0xff;
        if (length == 0 && optional) {
            return null;
        }
        if (length != 4 && length != 16) {
            throw new RecordFormatException("address length " + length + " (expected: 4 or 16" + (optional ? ", or 0 for none" : "") + ")");
        }
        byte[] bytes = new byte[length];
        b.get(bytes);
        return InetAddress.getByAddress(bytes);
    }

    private static void string(String s, Sink out) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        out.i32(bytes.length).bytes(bytes);
    }

    private static String string(ByteBuffer b) throws RecordFormatException {
        int length = b.getInt();
        if (length < 0 || length > b.remaining()) {
            throw new RecordFormatException("string length " + length + " (expected: 0-" + b.remaining() + ", the bytes left)");
        }
        if (length == 0) {
            return "";
        }
        // the record's CRC has vouched for these bytes: decode without a validating decoder (restore speed)
        String s = b.hasArray()
                ? new String(b.array(), b.arrayOffset() + b.position(), length, StandardCharsets.UTF_8)
                : StandardCharsets.UTF_8.decode(b.slice().limit(length)).toString();
        b.position(b.position() + length);
        return s;
    }

    private static void instant(Instant t, Sink out) {
        out.i64(t.getEpochSecond()).i32(t.getNano());
    }

    private static Instant instant(ByteBuffer b) throws RecordFormatException {
        long seconds = b.getLong();
        int nanos = b.getInt();
        if (nanos < 0 || nanos > 999_999_999) {
            throw new RecordFormatException("nanoseconds " + nanos + " (expected: 0-999999999)");
        }
        return Instant.ofEpochSecond(seconds, nanos);
    }
}
