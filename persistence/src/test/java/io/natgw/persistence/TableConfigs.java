package io.natgw.persistence;

import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import io.natgw.conf.PermissionRule;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static io.natgw.persistence.Rows.ip;

/** A loopback configuration with quotas high enough for load, built from the records. */
final class TableConfigs {

    private TableConfigs() {
    }

    static NatgwConfig forLoad(Path dataDir) {
        return new NatgwConfig(Path.of("crash-test.yaml"),
                new NatgwConfig.Network(List.of(ip("127.0.0.1")), List.of(Cidr.parse("127.0.0.0/8")), List.of(),
                        ip("127.0.1.1"), false, ""),
                dataDir,
                new NatgwConfig.Pcp(true, 5351, new NatgwConfig.Lifetimes(Duration.ofSeconds(120), Duration.ofSeconds(86400)),
                        false, List.of(), 50, false),
                new NatgwConfig.Upnp(true, 5000, true, Duration.ofSeconds(604800), Duration.ofSeconds(604800), "natgw"),
                new NatgwConfig.Admin(true, List.of(ip("127.0.0.1")), 8443, false),
                new NatgwConfig.Limits(true, 1_000_000, 1_000_000),
                List.of(PermissionRule.parse("allow 1024-65535 127.0.0.0/8 1024-65535"),
                        PermissionRule.parse("deny 0-65535 0.0.0.0/0 0-65535")),
                List.of(), List.of(),
                new NatgwConfig.Dataplane(false, NatgwConfig.DataplaneMode.USERSPACE, NatgwConfig.RelayMode.COPY,
                        Duration.ofSeconds(5), Duration.ofSeconds(120), 256, false));
    }
}
