package io.natgw.persistence;

import io.natgw.conf.Protocol;
import io.natgw.core.Change;
import io.natgw.core.Endpoint;
import io.natgw.core.Kind;
import io.natgw.core.LeaseStore;
import io.natgw.core.Mapping;
import io.natgw.core.Origin;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;
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

/**
 * Issue 11: data directories written by this release (journal format version 1) are restored by every later one.
 * {@code src/test/resources/journal-v1/} holds a snapshot of generation 1 and the journal that continues it, written
 * by {@link #main} on 2026-12-06; this test restores them. Never regenerate it to make a later release pass.
 */
class JournalFormatV1Test {

    static final Instant WRITTEN = Instant.parse("2026-12-06T19:00:00.000000001Z");
    static final Instant FAR = Instant.parse("2099-01-01T00:00:00Z");
    static final Owner ADMIN = Owner.of(ip("127.0.0.1"), Origin.ADMIN);

    /** The rows of the snapshot: one of each kind, origin, protocol, filter and address family. */
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

    /** What the journal adds: a UPnP row with a remote filter, a NAT-PMP row on IPv6, a removal, a new state. */
    static List<Change> journalChanges() {
        Mapping upnp = new Mapping(Protocol.TCP, 6000, new RemoteFilter(ip("203.0.113.0"), 24, 4000),
                new Endpoint(ip("192.168.77.40"), 6000), Owner.of(ip("192.168.77.40"), Origin.UPNP), "", Kind.DYNAMIC,
                "game", WRITTEN, FAR, true);
        Mapping pmp = new Mapping(Protocol.UDP, 6001, RemoteFilter.ANY, new Endpoint(ip("fd00:77::40"), 6001),
                Owner.of(ip("fd00:77::40"), Origin.NATPMP), "", Kind.DYNAMIC, "", WRITTEN, FAR, true);
        return List.of(Change.added(upnp, Change.Cause.REQUEST), Change.added(pmp, Change.Cause.REQUEST),
                Change.removed(snapshotRows().get(3), Change.Cause.EXPIRED));
    }

    static final Instant EPOCH = Instant.parse("2026-12-01T00:00:00Z");

    static List<Mapping> expected() {
        List<Mapping> rows = new ArrayList<>(snapshotRows().subList(0, 3));
        journalChanges().stream().filter(c -> c.after() != null).forEach(c -> rows.add(c.after()));
        rows.sort(Comparator.comparing(Mapping::key));
        return rows;
    }

    @Test
    void aDataDirectoryWrittenByReleaseOneIsRestored(@TempDir Path dir) throws IOException, RecordFormatException {
        for (String name : List.of("snapshot.bin", "journal.bin")) {
            try (InputStream in = getClass().getResourceAsStream("/journal-v1/" + name)) {
                Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
            ByteBuffer header = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(name)), 0, RecordCodec.HEADER_BYTES);
            assertEquals(1, RecordCodec.decodeHeader(header, name.startsWith("snap") ? RecordCodec.FileType.SNAPSHOT
                    : RecordCodec.FileType.JOURNAL).generation(), name);
            assertEquals(1, ByteBuffer.wrap(Files.readAllBytes(dir.resolve(name))).getShort(4), name + ": format version 1");
        }
        LeaseStore.Recovered r = StoreFixture.reopen(dir, WRITTEN);
        assertEquals(expected(), r.mappings());
        assertEquals(0, r.expiredDropped());
        assertEquals(EPOCH, r.epochStart());
        assertEquals(ip("203.0.113.1"), r.externalAddress());
    }

    /**
     * Writes the fixture again into {@code args[0]} (only to create it anew, e.g. with the test classpath:
     * {@code java -cp ... io.natgw.persistence.JournalFormatV1Test persistence/src/test/resources/journal-v1}).
     */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]).toAbsolutePath();
        Files.createDirectories(dir);
        Files.deleteIfExists(dir.resolve("snapshot.bin"));
        Files.deleteIfExists(dir.resolve("journal.bin"));
        JournalLeaseStore first = JournalLeaseStore.open(dir, java.time.Clock.fixed(WRITTEN, java.time.ZoneOffset.UTC));
        first.recover(WRITTEN);
        first.recordState(EPOCH, ip("203.0.113.9"));
        first.commit(snapshotRows().stream().map(m -> Change.added(m, Change.Cause.REQUEST)).toList());
        first.close(); // compacts: snapshot.bin generation 1, an empty journal.bin of generation 1
        JournalLeaseStore second = JournalLeaseStore.open(dir, java.time.Clock.fixed(WRITTEN, java.time.ZoneOffset.UTC));
        second.recover(WRITTEN);
        second.commit(journalChanges());
        second.recordState(EPOCH, ip("203.0.113.1"));
        second.abandon(); // leaves the journal as it is
        Files.deleteIfExists(dir.resolve("lock"));
    }
}
