package io.natgw.core;

import org.junit.jupiter.api.Test;

import static io.natgw.core.TestConfigs.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RemoteFilterTest {

    @Test
    void prefixAndPortDecideWhoIsAdmitted() {
        RemoteFilter f = new RemoteFilter(ip("203.0.113.0"), 24, 443);
        assertTrue(f.admits(ip("203.0.113.77"), 443));
        assertFalse(f.admits(ip("203.0.113.77"), 444));
        assertFalse(f.admits(ip("203.0.114.1"), 443));
        assertFalse(f.admits(ip("::1"), 443), "another family is never admitted");
        assertTrue(RemoteFilter.ANY.admits(ip("198.51.100.1"), 1));
    }

    @Test
    void overlapIsSymmetricAndPortsSeparate() {
        RemoteFilter net = new RemoteFilter(ip("203.0.113.0"), 24, 0);
        RemoteFilter host = RemoteFilter.host(ip("203.0.113.9"));
        RemoteFilter other = RemoteFilter.host(ip("198.51.100.9"));
        assertTrue(net.overlaps(host) && host.overlaps(net));
        assertFalse(host.overlaps(other));
        assertTrue(RemoteFilter.ANY.overlaps(other));
        assertFalse(new RemoteFilter(ip("203.0.113.0"), 24, 80).overlaps(new RemoteFilter(ip("203.0.113.0"), 24, 81)));
    }

    @Test
    void aSlashZeroFilterIsTheWildcard() {
        assertEquals(RemoteFilter.ANY, new RemoteFilter(ip("0.0.0.0"), 0, 0));
        assertEquals("*", RemoteFilter.ANY.toString());
        assertEquals("203.0.113.9/32 port 5", new RemoteFilter(ip("203.0.113.9"), 32, 5).toString());
    }
}
