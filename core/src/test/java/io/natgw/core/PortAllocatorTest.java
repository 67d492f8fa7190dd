package io.natgw.core;

import io.natgw.conf.Protocol;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
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
        PortAllocator a = new PortAllocator(Protocol.TCP, 5000, 6000, p -> true);
        assertEquals(List.of(5000, 6000, 6001, 6002), first(a, 4));
    }

    @Test
    void skipsUnusablePortsAndWrapsToTheBottomOfTheSearchedRange() {
        Set<Integer> taken = Set.of(65534, 1024);
        PortAllocator a = new PortAllocator(Protocol.UDP, 65534, 65534, p -> !taken.contains(p));
        assertEquals(List.of(65535, 1025, 1026), first(a, 3));
    }

    @Test
    void neverSearchesBelow1024AndEndsWithZeroWhenNothingIsFree() {
        PortAllocator a = new PortAllocator(Protocol.TCP, 0, 80, p -> p == 80 || p < 1024);
        assertEquals(List.of(80, 0), first(a, 2));
        PortAllocator none = new PortAllocator(Protocol.TCP, 0, 0, p -> false);
        assertEquals(0, none.next());
    }
}
