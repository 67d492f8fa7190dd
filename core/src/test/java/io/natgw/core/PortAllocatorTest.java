package io.natgw.core;

import io.natgw.conf.Protocol;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PortAllocatorTest {

    static List<Integer> first(PortAllocator a, int n) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(a.next());
        }
        return out;
    }

    @Test
    void requestedThenInternalThenUpwardSearch() {
        PortAllocator a = new PortAllocator(Protocol.TCP, 5000, 6000, new BitSet(), p -> true);
        assertEquals(List.of(5000, 6000, 6001, 6002), first(a, 4));
    }

    @Test
    void skipsUnusablePortsAndWrapsToTheBottomOfTheSearchedRange() {
        Set<Integer> taken = Set.of(65534, 1024);
        PortAllocator a = new PortAllocator(Protocol.UDP, 65534, 65534, new BitSet(), p -> !taken.contains(p));
        assertEquals(List.of(65535, 1025, 1026), first(a, 3));
    }

    @Test
    void neverSearchesBelow1024AndEndsWithZeroWhenNothingIsFree() {
        PortAllocator a = new PortAllocator(Protocol.TCP, 0, 80, new BitSet(), p -> p == 80 || p < 1024);
        assertEquals(List.of(80, 0), first(a, 2));
        PortAllocator none = new PortAllocator(Protocol.TCP, 0, 0, new BitSet(), p -> false);
        assertEquals(0, none.next());
    }

    @Test
    void theSearchSkipsOccupiedPortsWithoutTestingThem() {
        BitSet occupied = new BitSet();
        occupied.set(1024, 60000);
        List<Integer> tested = new ArrayList<>();
        PortAllocator a = new PortAllocator(Protocol.TCP, 2000, 2000, occupied, p -> {
            tested.add(p);
            return p == 60001;
        });
        assertEquals(60001, a.next());
        assertEquals(List.of(2000, 60000, 60001), tested, "only the requested port and free ports are tested");
    }

    @Test
    void theSearchWrapsBelowItsStartAndStopsAfterOneLap() {
        BitSet occupied = new BitSet();
        occupied.set(40000, 65536);
        PortAllocator a = new PortAllocator(Protocol.TCP, 0, 50000, occupied, p -> p == 1030);
        assertEquals(1030, a.next());
        assertEquals(0, a.next());
    }
}
