package io.natgw.core;

import io.natgw.conf.Protocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static io.natgw.core.MappingTableTest.A;
import static io.natgw.core.MappingTableTest.A_PMP;
import static io.natgw.core.MappingTableTest.B;
import static io.natgw.core.MappingTableTest.B_PMP;
import static io.natgw.core.MappingTableTest.granted;
import static io.natgw.core.MappingTableTest.pmp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NAT-PMP/PCP deletes look up the requester's rows through the table's per-owner index instead of scanning every row:
 * the index must follow every way a row comes and goes (grant, refresh, another owner's delete, restore after a restart).
 */
class OwnerIndexTest {

    final TestClock clock = new TestClock(Instant.parse("2026-11-21T06:00:00Z"));
    final InMemoryLeaseStore store = new InMemoryLeaseStore();
    MappingTable table;

    void open() throws IOException {
        table = new MappingTable(TestConfigs.base(), store, Forwarder.NONE, clock);
        table.start();
    }

    @AfterEach
    void close() throws IOException {
        if (table != null) {
            table.close();
        }
    }

    private Set<Integer> deleteAll(Owner who) {
        Outcome.Deleted d = assertInstanceOf(Outcome.Deleted.class,
                table.apply(new MappingRequest.DeleteInternal(who, Protocol.TCP, who.address(), 0, "")));
        return d.removed().stream().map(Mapping::externalPort).collect(Collectors.toSet());
    }

    @Test
    void deleteFindsTheOwnersRowsAfterRefreshAndAnotherOwnersDelete() throws IOException {
        open();
        int a1 = granted(table.apply(pmp(A_PMP, 6300, 6300))).externalPort();
        int a2 = granted(table.apply(pmp(A_PMP, 6301, 6301))).externalPort();
        int b1 = granted(table.apply(pmp(B_PMP, 6302, 6302))).externalPort();
        assertEquals(a1, granted(table.apply(pmp(A_PMP, 6300, 6300))).externalPort()); // a refresh replaces the row
        assertEquals(Set.of(b1), deleteAll(B_PMP));
        assertEquals(Set.of(), deleteAll(B_PMP));
        assertEquals(Set.of(a1, a2), deleteAll(A_PMP));
        assertTrue(table.view().mappings().isEmpty());
    }

    @Test
    void deleteFindsRowsRestoredAfterARestart() throws IOException {
        open();
        int a1 = granted(table.apply(pmp(A_PMP, 6400, 6400))).externalPort();
        int b1 = granted(table.apply(pmp(B_PMP, 6401, 6401))).externalPort();
        table.close();
        open();
        assertEquals(Set.of(a1), deleteAll(A_PMP));
        assertEquals(List.of(B), table.view().mappings().stream().map(m -> m.owner().address()).toList());
        assertEquals(Set.of(b1), deleteAll(B_PMP));
        assertTrue(table.view().mappings().stream().noneMatch(m -> m.owner().address().equals(A)));
    }
}
