package io.natgw.gateway;

import io.natgw.conf.ConfigLoader;
import io.natgw.conf.NatgwConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What a reload adopts at once, and which changed keys wait for a restart (named, running values kept). */
class ConfigReloadTest {

    static NatgwConfig parse(String yaml) throws Exception {
        return ConfigLoader.parse(yaml, Path.of("natgw.yaml"));
    }

    @Test
    void rulesLimitsAndLifetimesApplyListenerKeysWaitAndAreNamed() throws Exception {
        NatgwConfig running = parse("pcp:\n  port: 5351\n  maxLifetime: 86400\nlimits:\n  perClientQuota: 64\n");
        NatgwConfig next = parse("pcp:\n  port: 5352\n  maxLifetime: 3600\nlimits:\n  perClientQuota: 8\n"
                + "  subnetPrefixLength: 16\nadmin:\n  port: 9443\npermissions:\n  - \"deny 0-65535 0.0.0.0/0 0-65535\"\n"
                + "staticMappings:\n  - { protocol: tcp, externalPort: 8080, internalAddress: 127.0.0.5, internalPort: 80 }\n");
        ConfigReload.Adopted a = ConfigReload.adopt(running, next);
        assertEquals(List.of("admin", "pcp.port", "limits.subnetPrefixLength"), a.restartNeeded());
        NatgwConfig c = a.config();
        assertEquals("5351 8443 24", c.pcp().port() + " " + c.admin().port() + " " + c.limits().subnetPrefixLength(),
                "the running values of restart keys are kept");
        assertEquals(Duration.ofSeconds(3600), c.pcp().lifetimes().max());
        assertEquals(8, c.limits().perClientQuota());
        assertEquals(next.permissions(), c.permissions());
        assertEquals(next.staticMappings(), c.staticMappings());
    }

    @Test
    void upnpLeaseBoundsApplyButItsListenerKeysKeepTheWholeSection() throws Exception {
        NatgwConfig running = parse("upnp:\n  maxLease: 604800\n");
        ConfigReload.Adopted bounds = ConfigReload.adopt(running, parse("upnp:\n  maxLease: 3600\n  v1ZeroLease: 3600\n"));
        assertEquals(List.of(), bounds.restartNeeded());
        assertEquals(Duration.ofSeconds(3600), bounds.config().upnp().maxLease());

        ConfigReload.Adopted port = ConfigReload.adopt(running, parse("upnp:\n  maxLease: 3600\n  v1ZeroLease: 3600\n  httpPort: 5001\n"));
        assertEquals(1, port.restartNeeded().size());
        assertEquals(running.upnp(), port.config().upnp());
    }

    @Test
    void anUnchangedFileNeedsNoRestart() throws Exception {
        NatgwConfig running = parse("");
        assertEquals(List.of(), ConfigReload.adopt(running, parse("")).restartNeeded());
    }

    /** A followed WAN address (issue 15.1) is not a changed key: auto resolving to another address needs no restart. */
    @Test
    void autoResolvingToAnotherAddressIsNoChangeButAnotherKeyIs() throws Exception {
        NatgwConfig file = parse("network:\n  wan:\n    address: auto\n    allowPrivate: true\n");
        NatgwConfig.Network n = file.network();
        NatgwConfig.Network elsewhere = new NatgwConfig.Network(n.lanAddresses(), n.lanClients(), n.lanInterfaces(),
                java.net.InetAddress.getByName("203.0.113.77"), true, n.wanInterface(), n.allowPrivate(), n.reportedAddress(), n.stun(), n.stunRetry(), n.stunRefresh());
        NatgwConfig running = new NatgwConfig(file.source(), elsewhere, file.dataDir(), file.pcp(), file.upnp(), file.admin(),
                file.limits(), file.permissions(), file.staticMappings(), file.triggers(), file.dataplane());
        ConfigReload.Adopted a = ConfigReload.adopt(running, file);
        assertEquals(List.of(), a.restartNeeded());
        assertEquals("203.0.113.77", a.config().network().wanAddress().getHostAddress(), "the running address stays");
        assertEquals(List.of("network"), ConfigReload.adopt(running,
                parse("network:\n  wan:\n    address: auto\n    allowPrivate: false\n")).restartNeeded());
    }
}
