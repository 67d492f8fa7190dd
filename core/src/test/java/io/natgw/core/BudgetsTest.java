package io.natgw.core;

import io.natgw.conf.NatgwConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 10: the table's size follows the descriptors the process may open. */
class BudgetsTest {

    static NatgwConfig.Limits limits(int maxMappings) {
        return new NatgwConfig.Limits(true, 64, maxMappings, 256, 24, 64);
    }

    @Test
    void autoIsDerivedFromTheOpenFilesLimit() {
        assertEquals(new Budgets.MaxMappings(9000, "maxMappings 9000 (from the open-files limit 20000)", false),
                Budgets.maxMappings(limits(NatgwConfig.Limits.AUTO), true, 20_000));
        assertEquals(384, Budgets.fromOpenFiles(1024), "a reserve of at least 256 descriptors");
        assertEquals(131072, Budgets.fromOpenFiles(1L << 20), "no more rows than protocol and port pairs");
    }

    @Test
    void anExplicitValueAboveWhatDescriptorsAllowIsClampedWithAWarning() {
        Budgets.MaxMappings m = Budgets.maxMappings(limits(65536), true, 20_000);
        assertEquals(9000, m.value());
        assertTrue(m.clamped());
        assertEquals("maxMappings 9000: limits.maxMappings 65536 is more than the open-files limit 20000 allows"
                + " (raise it with ulimit -n or LimitNOFILE=)", m.why());
        assertEquals(100, Budgets.maxMappings(limits(100), true, 20_000).value());
        assertEquals(65536, Budgets.maxMappings(limits(65536), false, 20_000).value(), "no relays, no descriptors");
    }

    @Test
    void theTableAppliesTheDerivedLimit() throws IOException {
        NatgwConfig b = TestConfigs.base();
        NatgwConfig relaying = new NatgwConfig(b.source(), b.network(), b.dataDir(), b.pcp(), b.upnp(), b.admin(),
                limits(NatgwConfig.Limits.AUTO), b.permissions(), b.staticMappings(), b.triggers(),
                new NatgwConfig.Dataplane(true, NatgwConfig.DataplaneMode.USERSPACE, NatgwConfig.RelayMode.COPY,
                        Duration.ofSeconds(5), Duration.ofSeconds(120), 256, false));
        long openFiles = Budgets.openFilesLimit();
        assertTrue(openFiles > 0, "this JVM reports its open-files limit");
        try (MappingTable t = new MappingTable(relaying, new InMemoryLeaseStore(), Forwarder.NONE, new TestClock())) {
            assertEquals(Budgets.fromOpenFiles(openFiles), t.maxMappings());
        }
    }

    @Test
    void underKernelForwardingAMappingHoldsNoDescriptorSoAnExplicitLimitStands() throws IOException {
        NatgwConfig b = TestConfigs.base();
        int explicit = Budgets.fromOpenFiles(Budgets.openFilesLimit()) + 50_000;
        NatgwConfig kernel = new NatgwConfig(b.source(), b.network(), b.dataDir(), b.pcp(), b.upnp(), b.admin(),
                limits(explicit), b.permissions(), b.staticMappings(), b.triggers(),
                new NatgwConfig.Dataplane(true, NatgwConfig.DataplaneMode.LINUX_GATEWAY, NatgwConfig.RelayMode.COPY,
                        Duration.ofSeconds(5), Duration.ofSeconds(120), 256, false, NatgwConfig.Forwarding.KERNEL));
        try (MappingTable t = new MappingTable(kernel, new InMemoryLeaseStore(), Forwarder.NONE, new TestClock())) {
            assertEquals(explicit, t.maxMappings(), "kernel elements are not descriptors");
        }
    }
}
