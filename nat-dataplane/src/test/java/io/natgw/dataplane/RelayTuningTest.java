package io.natgw.dataplane;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.Test;

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

    @Test
    void theDefaultIsEpollThenNioAndIoUringOnlyWhenAskedFor() {
        String best = Epoll.isAvailable() ? "epoll" : "nio";
        assertEquals(best, Transport.named("auto").name());
        assertEquals(best, Transport.named("epoll").name());
        assertEquals("nio", Transport.named("nio").name());
        assertEquals(IoUring.isAvailable() ? "io_uring" : best, Transport.named("io_uring").name());
        assertThrows(IllegalArgumentException.class, () -> Transport.named("kqueue"));
    }
}
