package io.natgw.dataplane;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RelayTuningTest {

    static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) {
            p.setProperty(kv[i], kv[i + 1]);
        }
        return p;
    }

    @Test
    void noPropertiesGiveTheDefaults() {
        RelayTuning t = RelayTuning.from(props());
        assertEquals(RelayTuning.DEFAULTS, t);
        assertEquals("auto", t.transport());
        assertEquals(256 * 1024, t.readBytes());
        assertFalse(t.flushEachRead());
        assertEquals(0, t.socketBuffer(), "the kernel autotunes the socket buffers");
        assertTrue(t.threads() >= 2);
    }

    @Test
    void readsEveryProperty() {
        RelayTuning t = RelayTuning.from(props("natgw.dataplane.transport", " IO_URING ", "natgw.dataplane.threads", "3",
                "natgw.dataplane.readKiB", "64", "natgw.dataplane.flush", "read", "natgw.dataplane.socketBufferKiB", "512"));
        assertEquals(new RelayTuning("io_uring", 3, 64 * 1024, true, 512 * 1024), t);
    }

    @Test
    void refusesUnknownOrOutOfRangeValues() {
        assertThrows(IllegalArgumentException.class, () -> RelayTuning.from(props("natgw.dataplane.transport", "kqueue")));
        assertThrows(IllegalArgumentException.class, () -> RelayTuning.from(props("natgw.dataplane.threads", "0")));
        assertThrows(IllegalArgumentException.class, () -> RelayTuning.from(props("natgw.dataplane.threads", "two")));
        assertThrows(IllegalArgumentException.class, () -> RelayTuning.from(props("natgw.dataplane.readKiB", "0")));
        assertThrows(IllegalArgumentException.class, () -> RelayTuning.from(props("natgw.dataplane.flush", "never")));
        assertThrows(IllegalArgumentException.class, () -> RelayTuning.from(props("natgw.dataplane.socketBufferKiB", "-1")));
    }

    /** The fallback rule on its own, with the availability given: the expected values are written out, not derived. */
    @Test
    void aTransportThatDoesNotLoadFallsBackToEpollThenNio() {
        assertEquals("epoll", Transport.choose("auto", true, true));
        assertEquals("epoll", Transport.choose("epoll", true, true));
        assertEquals("io_uring", Transport.choose("io_uring", true, true));
        assertEquals("nio", Transport.choose("nio", true, true));

        assertEquals("epoll", Transport.choose("io_uring", true, false), "io_uring missing: epoll");
        assertEquals("nio", Transport.choose("io_uring", false, false), "neither native transport: NIO");
        assertEquals("nio", Transport.choose("auto", false, true), "auto never picks io_uring");
        assertEquals("nio", Transport.choose("epoll", false, true));
        assertThrows(IllegalArgumentException.class, () -> Transport.choose("kqueue", true, true));
    }

    /** On this machine, each name gives that transport: skipped (or failed under NATGW_REQUIRE_ALL=1) where it does not load. */
    @ParameterizedTest
    @ValueSource(strings = {"epoll", "io_uring", "nio"})
    void eachNamedTransportLoadsAsItself(String name) {
        TcpRelayTest.requireTransport(name);
        assertEquals(name, Transport.named(name).name());
        if (name.equals("epoll")) {
            assertEquals("epoll", Transport.named("auto").name(), "auto is epoll where epoll loads");
        }
    }
}
