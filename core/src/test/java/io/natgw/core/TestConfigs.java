package io.natgw.core;

import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import io.natgw.conf.PermissionRule;
import io.natgw.conf.StaticMapping;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Configurations for core's tests, built from the records (the loader is tested in conf). */
final class TestConfigs {

    static final InetAddress WAN = ip("127.0.1.1");

    static NatgwConfig base() {
        return with(true, 64, 65536, List.of(
                PermissionRule.parse("allow 1024-65535 0.0.0.0/0 1024-65535"),
                PermissionRule.parse("deny 0-65535 0.0.0.0/0 0-65535")), List.of(), List.of());
    }

    static NatgwConfig with(boolean secure, int quota, int max, List<PermissionRule> rules,
                            List<StaticMapping> statics, List<Cidr> thirdParty) {
        return new NatgwConfig(Path.of("test.yaml"),
                new NatgwConfig.Network(List.of(ip("127.0.0.1")), List.of(Cidr.parse("127.0.0.0/24")), List.of(), WAN, false, ""),
                Path.of("data"),
                new NatgwConfig.Pcp(true, 5351, new NatgwConfig.Lifetimes(Duration.ofSeconds(120), Duration.ofSeconds(86400)),
                        false, thirdParty, 50, false),
                new NatgwConfig.Upnp(true, 5000, true, Duration.ofSeconds(604800), Duration.ofSeconds(604800), "natgw"),
                new NatgwConfig.Admin(true, List.of(ip("127.0.0.1")), 8443, false),
                new NatgwConfig.Limits(secure, quota, max),
                rules, statics, List.of(),
                new NatgwConfig.Dataplane(false, NatgwConfig.DataplaneMode.USERSPACE, NatgwConfig.RelayMode.COPY,
                        Duration.ofSeconds(5), Duration.ofSeconds(120), 256, false));
    }

    /** A LAN with IPv6 clients (fd00:77::/64) beside the IPv4 ones: pinholes, quotas per /64, third parties. */
    static NatgwConfig v6(boolean secure, int quota, int subnetQuota, int max, List<PermissionRule> rules,
                          List<StaticMapping> statics, List<Cidr> thirdParty) {
        NatgwConfig c = with(secure, quota, max, rules, statics, thirdParty);
        return new NatgwConfig(c.source(),
                new NatgwConfig.Network(List.of(ip("127.0.0.1"), ip("fd00:77::1")),
                        List.of(Cidr.parse("127.0.0.0/24"), Cidr.parse("fd00:77::/48")), List.of(), WAN, false, ""),
                c.dataDir(), c.pcp(), c.upnp(), c.admin(), new NatgwConfig.Limits(secure, quota, max, subnetQuota, 24, 64),
                c.permissions(), c.staticMappings(), c.triggers(), c.dataplane());
    }

    static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private TestConfigs() {
    }
}
