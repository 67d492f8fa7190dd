package io.natgw.persistence;

import ch.qos.logback.classic.Level;
import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import io.natgw.conf.Protocol;
import io.natgw.core.Change;
import io.natgw.core.Endpoint;
import io.natgw.core.Kind;
import io.natgw.core.LeaseStore;
import io.natgw.core.Mapping;
import io.natgw.core.MappingRequest;
import io.natgw.core.MappingTable;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import io.natgw.core.RecordingForwarder;
import io.natgw.core.RemoteFilter;
import io.natgw.testsupport.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;

import static io.natgw.persistence.Rows.T0;
import static io.natgw.persistence.Rows.ip;
import static io.natgw.persistence.Rows.lease;
import static io.natgw.persistence.StoreFixture.openRecovered;
import static io.natgw.persistence.StoreFixture.reopen;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 14: the journal keeps pinholes (host and id) across journal replay and compaction; format 2's damage handling. */
class PinholeJournalTest {

    static final Owner H10_UPNP = Owner.of(ip("fd00:77::10"), Origin.UPNP);
    static final Owner H11_PCP = Owner.of(ip("fd00:77::11"), Origin.PCP);

    @TempDir
    Path dir;

    static Mapping pinhole(Owner o, int port, RemoteFilter remote, String nonce, int id) {
        return new Mapping(Protocol.TCP, port, remote, new Endpoint(o.address(), port), o, nonce, Kind.DYNAMIC,
                "pinhole " + port, T0, T0.plus(Duration.ofHours(1)), true, id);
    }

    @Test
    void pinholesSurviveJournalReplayAndCompaction() throws IOException {
        Mapping filtered = pinhole(H10_UPNP, 6000, RemoteFilter.host(ip("2001:db8:113::2")), "", 1);
        Mapping pcp = pinhole(H11_PCP, 6000, RemoteFilter.ANY, "00112233445566778899aabb", 2);
        Mapping gone = pinhole(H10_UPNP, 6001, RemoteFilter.ANY, "", 3);
        Mapping nat = lease(6000); // a NAT mapping on the same port number: another key
        JournalLeaseStore store = openRecovered(dir);
        StoreFixture.add(store, filtered, pcp, gone, nat);
        Mapping refreshed = pcp.withExpiry(T0.plus(Duration.ofHours(5)));
        store.commit(List.of(Change.updated(pcp, refreshed, Change.Cause.REQUEST), Change.removed(gone, Change.Cause.REQUEST)));
        store.abandon(); // the journal alone

        // listing order: NAT mappings first, then pinholes (protocol, port, filter: any first, host)
        List<Mapping> expected = List.of(nat, refreshed, filtered);
        assertEquals(expected, reopen(dir, T0).mappings(), "journal replay");

        JournalLeaseStore again = openRecovered(dir);
        again.close(); // compacts: the snapshot alone holds the rows
        assertEquals(RecordCodec.HEADER_BYTES, Files.size(dir.resolve(JournalLeaseStore.JOURNAL)));
        LeaseStore.Recovered r = reopen(dir, T0);
        assertEquals(expected, r.mappings(), "snapshot");
        assertEquals(List.of(2, 1), r.mappings().stream().filter(Mapping::pinhole).map(Mapping::pinholeId).toList());
    }

    @Test
    void aGatewayRestartRestoresItsPinholesWithTheirIds() throws IOException {
        Clock clock = Clock.fixed(T0, ZoneOffset.UTC);
        NatgwConfig load = TableConfigs.forLoad(dir);
        NatgwConfig cfg = new NatgwConfig(load.source(), new NatgwConfig.Network(load.network().lanAddresses(),
                List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("fd00:77::/64")), List.of(), ip("127.0.1.1"), false, ""),
                dir, load.pcp(), load.upnp(), load.admin(), load.limits(), List.of(), List.of(), List.of(), load.dataplane());
        RecordingForwarder kernel = new RecordingForwarder();
        kernel.pinholes = true;
        Mapping first;
        Mapping second;
        try (MappingTable t = new MappingTable(cfg, JournalLeaseStore.open(dir, clock), kernel, clock)) {
            t.start();
            first = granted(t.apply(MappingRequest.Map.dynamic(H10_UPNP, Protocol.UDP, new Endpoint(H10_UPNP.address(), 7000),
                    0, Duration.ofHours(2))));
            second = granted(t.apply(MappingRequest.Map.dynamic(H11_PCP, Protocol.TCP, new Endpoint(H11_PCP.address(), 7001),
                    0, Duration.ofHours(2)).withNonce("00112233445566778899aabb")));
        }
        try (MappingTable t = new MappingTable(cfg, JournalLeaseStore.open(dir, clock), kernel, clock)) {
            assertEquals(new MappingTable.Startup(2, 0, 0, true), t.start());
            assertEquals(List.of(second, first), t.view().mappings()); // tcp before udp
            assertEquals(Optional.of(second), t.view().pinhole(second.pinholeId()));
            Mapping third = granted(t.apply(MappingRequest.Map.dynamic(H10_UPNP, Protocol.UDP,
                    new Endpoint(H10_UPNP.address(), 7002), 0, Duration.ofHours(2))));
            assertNotEquals(first.pinholeId(), third.pinholeId());
            assertNotEquals(second.pinholeId(), third.pinholeId());
        }
    }

    static Mapping granted(Outcome o) {
        return assertInstanceOf(Outcome.Granted.class, o, () -> "expected a grant, got " + o).mapping();
    }

    /** A record of a type this release does not know (a later format's) is handled as damage is: dropped, kept aside. */
    @Test
    void aRecordOfAnUnknownTypeIsDroppedLikeACorruptOneAndTheRestRestored() throws IOException {
        Sink sink = new Sink(256);
        RecordCodec.append(new JournalRecord.Put(lease(2000)), sink);
        int unknownAt = RecordCodec.HEADER_BYTES + sink.position();
        byte[] body = {9, 1, 2, 3, 4}; // type 9, then a payload this release cannot read
        sink.i32(body.length).i32(RecordCodec.crc(ByteBuffer.wrap(body))).bytes(body);
        RecordCodec.append(new JournalRecord.Put(lease(2001)), sink);
        ByteBuffer header = RecordCodec.encodeHeader(new RecordCodec.Header(RecordCodec.FileType.JOURNAL, 0, 0));
        Files.createDirectories(dir);
        Path journal = dir.resolve(JournalLeaseStore.JOURNAL);
        ByteBuffer records = sink.written();
        byte[] file = new byte[header.remaining() + records.remaining()];
        header.get(file, 0, RecordCodec.HEADER_BYTES);
        records.get(file, RecordCodec.HEADER_BYTES, file.length - RecordCodec.HEADER_BYTES);
        Files.write(journal, file);

        try (LogCapture logs = new LogCapture(JournalLeaseStore.class)) {
            assertEquals(List.of(lease(2000), lease(2001)), reopen(dir, T0).mappings());
            List<String> warnings = logs.lines(Level.WARN);
            assertEquals(1, warnings.size(), warnings::toString);
            assertTrue(warnings.get(0).startsWith(journal + ": record 2 at offset " + unknownAt + " is corrupt: unknown"
                    + " record type 9"), warnings.get(0));
            assertTrue(warnings.get(0).contains("the damaged file is kept in " + dir.resolve("journal.bin.corrupt-")),
                    warnings.get(0));
        }
    }

    /** A file of a later format version stops start-up, as any file that is not ours does: nothing is guessed. */
    @Test
    void aJournalOfAnUnknownFormatVersionStopsStartUpWithWhatToDo() throws IOException {
        Files.createDirectories(dir);
        ByteBuffer header = RecordCodec.encodeHeader(new RecordCodec.Header(RecordCodec.FileType.JOURNAL, 0, 0,
                RecordCodec.VERSION + 1));
        byte[] bytes = new byte[RecordCodec.HEADER_BYTES];
        header.get(bytes);
        Files.write(dir.resolve(JournalLeaseStore.JOURNAL), bytes);
        IOException e = assertThrows(IOException.class, () -> reopen(dir, T0));
        assertTrue(e.getMessage().contains("format version 3 is not supported (expected: 1-2; a later release wrote it?)")
                && e.getMessage().contains("Move it aside"), e.getMessage());
        assertEquals(List.of(JournalLeaseStore.JOURNAL, "lock").stream().sorted().toList(),
                Files.list(dir).map(p -> p.getFileName().toString()).sorted().toList(), "nothing rewritten or removed");
    }
}
