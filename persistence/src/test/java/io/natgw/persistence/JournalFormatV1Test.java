package io.natgw.persistence;

import io.natgw.conf.Protocol;
import io.natgw.core.MappingKey;
import io.natgw.core.Endpoint;
import io.natgw.core.Kind;
import io.natgw.core.LeaseStore;
import io.natgw.core.Mapping;
import io.natgw.core.Origin;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;
import ch.qos.logback.classic.Level;
import io.natgw.testsupport.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static io.natgw.persistence.Rows.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11: data directories written by release one (journal format version 1) are restored by every later one.
 * {@code src/test/resources/journal-v1/} holds a snapshot of generation 1 and the journal that continues it, written
 * on 2026-12-06 by this class's {@code main} as commit 6e2c916 has it (release one's codec, unchanged until format 2);
 * this test restores them. Never regenerate it to make a later release pass: format 2 can no longer write it.
 *
 * <p>Issue 14 (format 2, pinholes): every row of format 1 restores as it was, except the NAT-PMP row that relayed an
 * IPv4 port to an IPv6 host ({@link #OBSOLETE_V6_RELAY}): this release opens pinholes for IPv6 hosts instead, so that
 * row is dropped with a warning. Once recovered, the directory is rewritten in format 2 and restores the same rows.
 */
class JournalFormatV1Test {

    static final Instant WRITTEN = Instant.parse("2026-12-06T19:00:00.000000001Z");
    static final Instant FAR = Instant.parse("2099-01-01T00:00:00Z");
    static final Owner ADMIN = Owner.of(ip("127.0.0.1"), Origin.ADMIN);
    static final Instant EPOCH = Instant.parse("2026-12-01T00:00:00Z");
    /** The journal's second row in format 1: udp 6001 -> [fd00:77::40]:6001 via nat-pmp; not restored by format 2. */
    static final MappingKey OBSOLETE_V6_RELAY = new MappingKey(Protocol.UDP, 6001, RemoteFilter.ANY);

    /** The rows of the snapshot: one of each kind, origin and protocol; the last one the journal removes. */
    static List<Mapping> snapshotRows() {
        return List.of(
                new Mapping(Protocol.TCP, 8080, RemoteFilter.ANY, new Endpoint(ip("192.168.77.10"), 80), ADMIN, "",
                        Kind.STATIC, "web server — ünïcode", WRITTEN, null, true),
                new Mapping(Protocol.UDP, 51820, RemoteFilter.ANY, new Endpoint(ip("192.168.77.2"), 51821),
                        Owner.of(ip("127.0.0.1"), Origin.CONFIG), "", Kind.STATIC, "wireguard", WRITTEN, null, false),
                new Mapping(Protocol.UDP, 4500, RemoteFilter.ANY, new Endpoint(ip("192.168.77.20"), 4500),
                        Owner.of(ip("192.168.77.20"), Origin.PCP), "0123456789abcdef01234567", Kind.DYNAMIC, "", WRITTEN,
                        FAR, true),
                new Mapping(Protocol.TCP, 113, RemoteFilter.ANY, new Endpoint(ip("192.168.77.30"), 113),
                        Owner.of(ip("192.168.77.30"), Origin.TRIGGER), "", Kind.TRIGGERED, "IRC IDENT", WRITTEN, FAR, true));
    }

    /** What the journal adds that format 2 restores: a UPnP row with a remote filter (the removal of row 4 aside). */
    static Mapping journalUpnpRow() {
        return new Mapping(Protocol.TCP, 6000, new RemoteFilter(ip("203.0.113.0"), 24, 4000),
                new Endpoint(ip("192.168.77.40"), 6000), Owner.of(ip("192.168.77.40"), Origin.UPNP), "", Kind.DYNAMIC,
                "game", WRITTEN, FAR, true);
    }

    static List<Mapping> expected() {
        List<Mapping> rows = new ArrayList<>(snapshotRows().subList(0, 3));
        rows.add(journalUpnpRow());
        rows.sort(Comparator.comparing(Mapping::key));
        return rows;
    }

    @Test
    void aDataDirectoryWrittenByReleaseOneIsRestored(@TempDir Path dir) throws IOException, RecordFormatException {
        for (String name : List.of("snapshot.bin", "journal.bin")) {
            try (InputStream in = getClass().getResourceAsStream("/journal-v1/" + name)) {
                Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
            assertEquals(1, header(dir, name).generation(), name);
            assertEquals(1, header(dir, name).version(), name + ": format version 1");
        }
        LeaseStore.Recovered r;
        try (LogCapture logs = new LogCapture(JournalLeaseStore.class)) {
            r = StoreFixture.reopen(dir, WRITTEN);
            assertEquals(List.of(dir + ": not restored: udp 6001 relayed to [fd00:77:0:0:0:0:0:40]:6001 (format 1); this"
                    + " release relays no IPv4 port to an IPv6 host, which asks for a pinhole instead"),
                    logs.lines(Level.WARN));
        }
        assertEquals(expected(), r.mappings());
        assertFalse(r.mappings().stream().anyMatch(m -> m.key().equals(OBSOLETE_V6_RELAY)), "the IPv4-to-IPv6 relay is gone");
        assertEquals(0, r.expiredDropped());
        assertEquals(EPOCH, r.epochStart());
        assertEquals(ip("203.0.113.1"), r.externalAddress());

        // recovery rewrote the directory in the current format, and it restores the same
        assertEquals(RecordCodec.VERSION, header(dir, "snapshot.bin").version());
        assertEquals(RecordCodec.VERSION, header(dir, "journal.bin").version());
        assertTrue(header(dir, "snapshot.bin").generation() > 1);
        LeaseStore.Recovered again = StoreFixture.reopen(dir, WRITTEN);
        assertEquals(expected(), again.mappings());
        assertEquals(EPOCH, again.epochStart());
        assertEquals(ip("203.0.113.1"), again.externalAddress());
    }

    static RecordCodec.Header header(Path dir, String name) throws IOException, RecordFormatException {
        ByteBuffer header = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(name)), 0, RecordCodec.HEADER_BYTES);
        return RecordCodec.decodeHeader(header, name.startsWith("snap") ? RecordCodec.FileType.SNAPSHOT
                : RecordCodec.FileType.JOURNAL);
    }

    /**
     * A journal alone (no snapshot) written by release one's code (main at 1ec5c33, before format 2) on 2026-12-06:
     * {@code src/test/resources/journal-v1-replay/}, format 1, replayed record by record: adds of every origin (an
     * admin and a configured static row, one disabled; PCP with its nonce and a PEER-like filtered row; UPnP with a
     * remote filter; NAT-PMP asymmetric), then a PCP refresh with a new nonce, a UPnP row disabled, the NAT-PMP row
     * removed. Never regenerate it.
     */
    @Test
    void aJournalWrittenByReleaseOneReplaysToExactlyItsRows(@TempDir Path dir) throws IOException, RecordFormatException {
        try (InputStream in = getClass().getResourceAsStream("/journal-v1-replay/journal.bin")) {
            Files.copy(in, dir.resolve("journal.bin"));
        }
        assertEquals(1, header(dir, "journal.bin").version());
        Instant t = Instant.parse("2026-12-06T22:00:00.000000123Z");
        Instant far = Instant.parse("2099-01-01T00:00:00Z");
        Owner pcpHost = Owner.of(ip("192.168.77.20"), Origin.PCP);
        List<Mapping> expected = new ArrayList<>(List.of(
                new Mapping(Protocol.TCP, 8080, RemoteFilter.ANY, new Endpoint(ip("192.168.77.10"), 80), ADMIN, "",
                        Kind.STATIC, "web", t, null, true),
                new Mapping(Protocol.UDP, 51820, RemoteFilter.ANY, new Endpoint(ip("192.168.77.2"), 51820),
                        Owner.of(ip("127.0.0.1"), Origin.CONFIG), "", Kind.STATIC, "wireguard", t, null, false),
                new Mapping(Protocol.UDP, 4500, RemoteFilter.ANY, new Endpoint(ip("192.168.77.20"), 4500), pcpHost,
                        "fedcba9876543210fedcba98", Kind.DYNAMIC, "", t, far, true),
                new Mapping(Protocol.TCP, 6000, new RemoteFilter(ip("203.0.113.0"), 24, 4000),
                        new Endpoint(ip("192.168.77.40"), 6000), Owner.of(ip("192.168.77.40"), Origin.UPNP), "",
                        Kind.DYNAMIC, "game", t, far, false),
                new Mapping(Protocol.TCP, 6002, new RemoteFilter(ip("198.51.100.7"), 32, 443),
                        new Endpoint(ip("192.168.77.42"), 6002), Owner.of(ip("192.168.77.42"), Origin.PCP),
                        "aaaaaaaaaaaaaaaaaaaaaaaa", Kind.DYNAMIC, "peer", t, far, true)));
        expected.sort(Comparator.comparing(Mapping::key));
        LeaseStore.Recovered r = StoreFixture.reopen(dir, t);
        assertEquals(expected, r.mappings());
        assertEquals(Instant.parse("2026-12-02T00:00:00Z"), r.epochStart());
        assertEquals(ip("203.0.113.1"), r.externalAddress());
        assertEquals(RecordCodec.VERSION, header(dir, "snapshot.bin").version(), "rewritten in the current format");
        assertEquals(expected, StoreFixture.reopen(dir, t).mappings(), "and restored the same from it");
    }
}
