package io.natgw.conf;

import static io.natgw.conf.ShippedConfigTest.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every key is read: a file that changes every value gives a config with every value changed. */
class CustomValuesTest {

    private static final String ROUTER = """
            network:
              lan:
                addresses: [192.168.77.1, "fd00::1"]
                clients: [192.168.77.0/24, "fd00::/64"]
                interfaces: [eth1]
              wan:
                address: 203.0.113.1
                interface: eth0
                allowPrivate: false
                reportedAddress: 198.51.100.7
                stun: "203.0.113.9:3478"
                stunRetry: 5
                stunRefresh: 600
            dataDir: /var/lib/natgw
            pcp:
              enabled: false
              port: 15351
              minLifetime: 60
              maxLifetime: 7200
              strictNonce: true
              thirdPartyClients: [192.168.77.10/32]
              rateLimitPerSecond: 10
              announce: false
            upnp:
              enabled: false
              httpPort: 15000
              ssdp: false
              v1ZeroLease: 3600
              maxLease: 86400
              friendlyName: "Home router"
              udn: "uuid:5F3C2A9E-1B7D-4C8E-9A6F-2D4B8E1C7A30"
              manufacturer: "Acme Networks"
              modelName: "Acme X1"
              serialNumber: "SN-0042"
            admin:
              enabled: false
              addresses: [192.168.77.1]
              port: 18443
              plainHttp: false
            limits:
              secureMode: false
              perClientQuota: 8
              perSubnetQuota: 32
              subnetPrefixLength: 28
              subnetPrefixLengthV6: 56
              maxMappings: 100
            permissions:
              - "allow 1024-65535 192.168.77.0/24 1024-65535"
            staticMappings:
              - protocol: udp
                externalPort: 51820
                internalAddress: 192.168.77.2
                internalPort: 51821
                description: wireguard
                enabled: false
            triggers:
              - name: DirectPlay
                triggerProtocol: tcp
                triggerPorts: 47624
                incomingProtocol: both
                incomingPorts: 2300-2400
                timeout: 60
                enabled: false
            dataplane:
              enabled: false
              mode: linux-gateway
              relay: splice
              connectTimeout: 2
              udpIdleTimeout: 300
              udpSessionsPerMapping: 16
              cutOnDelete: true
            """;

    @Test
    void everyValueIsTaken(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("router.yaml");
        Files.writeString(file, ROUTER);
        NatgwConfig expected = new NatgwConfig(file,
                new NatgwConfig.Network(List.of(ip("192.168.77.1"), ip("fd00::1")),
                        List.of(Cidr.parse("192.168.77.0/24"), Cidr.parse("fd00::/64")), List.of("eth1"), ip("203.0.113.1"),
                        false, "eth0", false, ip("198.51.100.7"),
                        new java.net.InetSocketAddress(ip("203.0.113.9"), 3478), Duration.ofSeconds(5), Duration.ofSeconds(600)),
                Path.of("/var/lib/natgw"),
                new NatgwConfig.Pcp(false, 15351, new NatgwConfig.Lifetimes(Duration.ofSeconds(60), Duration.ofSeconds(7200)),
                        true, List.of(Cidr.parse("192.168.77.10/32")), 10, false),
                new NatgwConfig.Upnp(false, 15000, false, Duration.ofSeconds(3600), Duration.ofSeconds(86400), "Home router",
                        "5f3c2a9e-1b7d-4c8e-9a6f-2d4b8e1c7a30", "Acme Networks", "Acme X1", "SN-0042"),
                new NatgwConfig.Admin(false, List.of(ip("192.168.77.1")), 18443, false),
                new NatgwConfig.Limits(false, 8, 100, 32, 28, 56),
                List.of(PermissionRule.parse("allow 1024-65535 192.168.77.0/24 1024-65535")),
                List.of(new StaticMapping(Protocol.UDP, 51820, ip("192.168.77.2"), 51821, "wireguard", false)),
                List.of(new TriggerRule("DirectPlay", EnumSet.of(Protocol.TCP), PortRanges.parse("47624"),
                        EnumSet.allOf(Protocol.class), PortRanges.parse("2300-2400"), Duration.ofSeconds(60), false)),
                new NatgwConfig.Dataplane(false, NatgwConfig.DataplaneMode.LINUX_GATEWAY, NatgwConfig.RelayMode.SPLICE,
                        Duration.ofSeconds(2), Duration.ofSeconds(300), 16, true));
        assertEquals(expected, ConfigLoader.load(file));
    }

    @Test
    void emptyListsAndPermissionsThatAllowEverything() throws Exception {
        NatgwConfig c = ConfigLoader.parse("permissions: []\npcp: { thirdPartyClients: }\nstaticMappings:\ntriggers: []\n",
                Path.of("e.yaml"));
        assertEquals(List.of(), c.permissions());
        assertEquals(List.of(), c.pcp().thirdPartyClients());
        assertEquals(List.of(), c.staticMappings());
        assertEquals(List.of(), c.triggers());
    }

    @Test
    void aRelativeDataDirResolvesAgainstTheWorkingDirectory() throws Exception {
        Path cwd = Path.of(System.getProperty("user.dir"));
        assertEquals(cwd.resolve("state/natgw"), ConfigLoader.parse("dataDir: ./state/natgw/\n", Path.of("d.yaml")).dataDir());
        assertEquals(cwd.resolve("data"), ConfigLoader.defaults().dataDir());
        assertEquals(Path.of("/srv/natgw"), ConfigLoader.parse("dataDir: /srv/natgw\n", Path.of("d.yaml")).dataDir());
    }
}
