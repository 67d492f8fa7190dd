package io.natgw.it.hardening;

import io.natgw.it.support.Daemon;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.jar.JarFile;

import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The daemon jar carries Netty's native epoll and io_uring for the architectures routers use: x86_64 and aarch64. */
class NativeTransportsShippedTest {

    @Test
    void theDaemonJarShipsEpollAndIoUringForX86_64AndAarch64() throws Exception {
        try (JarFile jar = new JarFile(Daemon.jar().toFile())) {
            for (String lib : List.of("libnetty_transport_native_epoll_x86_64.so", "libnetty_transport_native_epoll_aarch_64.so",
                    "libnetty_transport_native_io_uring42_x86_64.so", "libnetty_transport_native_io_uring42_aarch_64.so")) {
                assertNotNull(jar.getEntry("META-INF/native/" + lib), lib + " in " + Daemon.jar());
            }
        }
    }
}
