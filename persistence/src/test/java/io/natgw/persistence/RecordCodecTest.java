package io.natgw.persistence;

import io.natgw.conf.Protocol;
import io.natgw.core.Endpoint;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import io.natgw.core.Origin;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static io.natgw.persistence.Rows.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecordCodecTest {

    /** Every field takes values that differ from its neighbours' and from the defaults. */
    static List<JournalRecord> everyKindOfRecord() {
        List<JournalRecord> records = new ArrayList<>();
        Instant created = Instant.ofEpochSecond(1_772_000_000L, 987_654_321);
        Instant expires = Instant.ofEpochSecond(1_772_003_600L, 1);
        int n = 0;
        for (Origin origin : Origin.values()) {
            for (Kind kind : Kind.values()) {
                n++;
                records.add(new JournalRecord.Put(new Mapping(n % 2 == 0 ? Protocol.TCP : Protocol.UDP, 1024 + n,
                        n % 3 == 0 ? RemoteFilter.ANY : new RemoteFilter(ip("203.0.113.0"), 24, 4000 + n),
                        new Endpoint(ip("192.168.77." + n), 65535 - n), Owner.of(ip("192.168.77." + (100 + n)), origin),
                        origin == Origin.PCP ? "00112233445566778899aabb" : "", kind, "spiel " + n + " — Ünïcödé ✓",
                        created.plusNanos(n), kind == Kind.STATIC ? null : expires.plusSeconds(n), n % 4 != 0)));
            }
        }
        // IPv6 pinholes: a host filter, port and id 65535, an empty description; a PCP one with its nonce
        records.add(new JournalRecord.Put(new Mapping(Protocol.TCP, 65535, RemoteFilter.host(ip("2001:db8::7")),
                new Endpoint(ip("fd00::1"), 65535), Owner.of(ip("fd00::2"), Origin.UPNP), "", Kind.DYNAMIC, "",
                Instant.EPOCH, Instant.EPOCH.plusSeconds(1), false, 65535)));
        records.add(new JournalRecord.Put(new Mapping(Protocol.UDP, 1, new RemoteFilter(ip("2001:db8:113::"), 48, 0),
                new Endpoint(ip("fd00:77::10"), 1), Owner.of(ip("fd00:77::10"), Origin.PCP), "00112233445566778899aabb",
                Kind.DYNAMIC, "pinhole", Instant.EPOCH, Instant.EPOCH.plusSeconds(1), true, 1)));
        records.add(new JournalRecord.Remove(MappingKey.pinhole(Protocol.TCP, (java.net.Inet6Address) ip("fd00::1"), 65535,
                RemoteFilter.host(ip("2001:db8::7")))));
        records.add(new JournalRecord.Put(new Mapping(Protocol.UDP, 1, new RemoteFilter(null, 0, 9), new Endpoint(ip("127.0.0.1"), 1),
                Owner.of(ip("127.0.0.1"), Origin.TRIGGER), "", Kind.TRIGGERED, "x".repeat(5000),
                Instant.ofEpochSecond(-5, 5), Instant.MAX, true)));
        records.add(new JournalRecord.Remove(MappingKey.of(Protocol.UDP, 5353)));
        records.add(new JournalRecord.Remove(new MappingKey(Protocol.TCP, 80, new RemoteFilter(ip("2001:db8::"), 32, 443))));
        records.add(new JournalRecord.State(Instant.ofEpochSecond(1_700_000_000L, 42), ip("203.0.113.9")));
        records.add(new JournalRecord.State(Instant.EPOCH, null));
        records.add(new JournalRecord.State(Instant.ofEpochSecond(1), ip("2001:db8::1")));
        return records;
    }

    @Test
    void everyFieldOfEveryRecordSurvivesTheRoundTrip() throws Exception {
        List<JournalRecord> records = everyKindOfRecord();
        Sink sink = new Sink(16);
        for (JournalRecord r : records) {
            RecordCodec.append(r, sink);
        }
        ByteBuffer bytes = sink.written();
        List<JournalRecord> decoded = new ArrayList<>();
        while (bytes.hasRemaining()) {
            int length = bytes.getInt();
            int crc = bytes.getInt();
            ByteBuffer body = bytes.slice().limit(length);
            assertEquals(RecordCodec.crc(body), crc, "CRC32C of record " + decoded.size());
            decoded.add(RecordCodec.decodeBody(body));
            bytes.position(bytes.position() + length);
        }
        assertEquals(records, decoded);
    }

    @Test
    void theHeaderRoundTripsAndRejectsOtherFiles() throws Exception {
        RecordCodec.Header h = new RecordCodec.Header(RecordCodec.FileType.SNAPSHOT, 7, 1_772_000_000_000L);
        assertEquals(h, RecordCodec.decodeHeader(RecordCodec.encodeHeader(h), RecordCodec.FileType.SNAPSHOT));

        RecordFormatException wrongType = assertThrows(RecordFormatException.class,
                () -> RecordCodec.decodeHeader(RecordCodec.encodeHeader(h), RecordCodec.FileType.JOURNAL));
        assertEquals("file type 2 (expected: 1 for a journal)", wrongType.getMessage());

        ByteBuffer text = ByteBuffer.wrap("# natgw.yaml, not a journal......".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        RecordFormatException notOurs = assertThrows(RecordFormatException.class,
                () -> RecordCodec.decodeHeader(text, RecordCodec.FileType.JOURNAL));
        assertTrue(notOurs.getMessage().startsWith("magic 0x23206e61 is not a natgw journal's"), notOurs.getMessage());

        ByteBuffer flipped = RecordCodec.encodeHeader(h);
        flipped.put(12, (byte) (flipped.get(12) ^ 1)); // the generation
        RecordFormatException damaged = assertThrows(RecordFormatException.class,
                () -> RecordCodec.decodeHeader(flipped, RecordCodec.FileType.SNAPSHOT));
        assertTrue(damaged.getMessage().startsWith("header CRC32C"), damaged.getMessage());
    }

    /** Bodies with a valid CRC but impossible contents (a newer writer, or a bug) name the field. */
    @Test
    void malformedBodiesNameTheField() {
        assertEquals("unknown record type 9 (expected: 4 put, 5 remove, 3 state; 1 and 2 of format 1)", decodeError(9));
        assertEquals("unknown record type 0 (expected: 4 put, 5 remove, 3 state; 1 and 2 of format 1)", decodeError(0));
        assertEquals("protocol 1 (expected: 6 tcp, 17 udp)", decodeError(2, 1, 0, 80));
        assertEquals("record ends inside field 'external port'", decodeError(2, 6, 0));
        assertEquals("address length 5 (expected: 4 or 16, or 0 for none)", decodeError(2, 6, 0, 80, 5));
        assertEquals("3 bytes after the end of a type 2 record", decodeError(2, 6, 0, 80, 0, 0, 0, 0, 1, 2, 3));
        // format 2's REMOVE: a host that is no IPv6 address, a host missing
        assertEquals("field 'host': a pinhole's host is an IPv6 address, not 10.0.0.1",
                decodeError(5, 6, 0, 80, 0, 0, 0, 0, 4, 10, 0, 0, 1));
        assertEquals("record ends inside field 'host'", decodeError(5, 6, 0, 80, 0, 0, 0, 0));
    }

    /** A header of a format this release does not know (a later release's) is refused, not guessed at. */
    @Test
    void aHeaderOfAnUnknownVersionIsRefused() {
        ByteBuffer later = RecordCodec.encodeHeader(new RecordCodec.Header(RecordCodec.FileType.JOURNAL, 1, 0,
                RecordCodec.VERSION + 1));
        RecordFormatException e = assertThrows(RecordFormatException.class,
                () -> RecordCodec.decodeHeader(later, RecordCodec.FileType.JOURNAL));
        assertEquals("format version 3 is not supported (expected: 1-2; a later release wrote it?)", e.getMessage());
    }

    private static String decodeError(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return assertThrows(RecordFormatException.class, () -> RecordCodec.decodeBody(ByteBuffer.wrap(b))).getMessage();
    }
}
