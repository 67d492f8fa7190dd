package io.natgw.conf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every validation rule, each with the exact {@code file:line:column: message} a user sees. */
class ValidationTest {

    private static final Path FILE = Path.of("t.yaml");

    private static List<String> errors(String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, FILE));
        return e.errors().stream().map(ConfigError::toString).toList();
    }

    private static NatgwConfig ok(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, FILE);
    }

    @Test
    void unknownKeysAtAnyLevelListTheAcceptedKeys() {
        assertEquals(List.of(
                "t.yaml:3:5: network.lan.adresses: unknown key, did you mean 'addresses'? (accepted: addresses, clients, interfaces)",
                "t.yaml:4:1: colour: unknown key (accepted: network, dataDir, pcp, upnp, admin, limits, permissions,"
                        + " staticMappings, triggers, dataplane)",
                "t.yaml:6:51: triggers[0].timout: unknown key, did you mean 'timeout'? (accepted: name, triggerProtocol,"
                        + " triggerPorts, incomingProtocol, incomingPorts, timeout, enabled)"),
                errors("""
                        network:
                          lan:
                            adresses: [127.0.0.1]
                        colour: blue
                        triggers:
                          - { name: x, triggerPorts: 1, incomingPorts: 2, timout: 5 }
                        """));
    }

    @Test
    void wrongTypes() {
        assertEquals(List.of(
                "t.yaml:2:12: pcp.enabled: 'maybe' is not a boolean (accepted: true, false)",
                "t.yaml:3:9: pcp.port: a list is not an integer (accepted: 1-65535)",
                "t.yaml:4:16: pcp.minLifetime: '2m' is not an integer (accepted: 1-4294967295 seconds)",
                "t.yaml:5:7: upnp: '5' is not a mapping (accepted: keys indented under 'upnp:')",
                "t.yaml:7:14: admin.addresses: '127.0.0.1' is not a list (accepted: a list such as [127.0.0.1])",
                "t.yaml:8:9: admin.port: '8443' is quoted text, not an integer (accepted: 1-65535, without quotes)",
                "t.yaml:10:9: dataplane.mode: 'kernel' is not one of the choices (accepted: userspace, linux-gateway)",
                "t.yaml:11:11: dataplane.enabled: no value (accepted: true, false)"),
                errors("""
                        pcp:
                          enabled: maybe
                          port: [5351]
                          minLifetime: 2m
                        upnp: 5
                        admin:
                          addresses: 127.0.0.1
                          port: "8443"
                        dataplane:
                          mode: kernel
                          enabled:
                        """));
    }

    @Test
    void portsOutOfRange() {
        assertEquals(List.of(
                "t.yaml:2:9: pcp.port: 70000 is out of range (accepted: 1-65535)",
                "t.yaml:4:13: upnp.httpPort: 0 is out of range (accepted: 1-65535)",
                "t.yaml:6:9: admin.port: -1 is out of range (accepted: 1-65535)",
                "t.yaml:8:36: staticMappings[0].externalPort: 65536 is out of range (accepted: 1-65535)"),
                errors("""
                        pcp:
                          port: 70000
                        upnp:
                          httpPort: 0
                        admin:
                          port: -1
                        staticMappings:
                          - { protocol: tcp, externalPort: 65536, internalAddress: 127.0.0.1 }
                        """));
    }

    @Test
    void badAddressesAndCidrsAreRejectedAndHostNamesNeverResolved() {
        String accepted = "(accepted: IPv4 or IPv6 literals such as 192.168.77.1 or ::1; host names are never resolved)";
        assertEquals(List.of(
                "t.yaml:3:17: network.lan.addresses[0]: 'localhost' is not an IP address literal " + accepted,
                "t.yaml:4:32: network.lan.clients[1]: '10.0.0.0/33' is not a CIDR block (accepted: address/0-32, e.g. 192.168.77.0/24)",
                "t.yaml:4:45: network.lan.clients[2]: '10.1.2.300' is not an IP address literal " + accepted,
                "t.yaml:6:14: network.wan.address: '203.0.113.256' is neither 'auto' nor an IP address literal"
                        + " (accepted: auto, or an address such as 203.0.113.1; host names are never resolved)",
                "t.yaml:8:23: pcp.thirdPartyClients[0]: '192.168.77.0/' is not a CIDR block (accepted: address/0-32,"
                        + " e.g. 192.168.77.0/24)"),
                errors("""
                        network:
                          lan:
                            addresses: [localhost]
                            clients: [192.168.77.0/24, 10.0.0.0/33, 10.1.2.300/8]
                          wan:
                            address: 203.0.113.256
                        pcp:
                          thirdPartyClients: [192.168.77.0/]
                        """));
    }

    @Test
    void badPortRangeSyntax() {
        assertEquals(List.of(
                "t.yaml:3:19: triggers[0].triggerPorts: '123-456-789' is not a port or a range"
                        + " (accepted: ports 0-65535 and ranges, comma-separated, e.g. '123-456,777-789')",
                "t.yaml:4:20: triggers[0].incomingPorts: range '5-3' ends before it starts"
                        + " (accepted: first-last with first <= last, e.g. 3-5)",
                "t.yaml:6:19: triggers[1].triggerPorts: port 70000 is out of range (accepted: 0-65535)",
                "t.yaml:7:20: triggers[1].incomingPorts: empty port list"
                        + " (accepted: ports 0-65535 and ranges, comma-separated, e.g. '123-456,777-789')",
                "t.yaml:9:19: triggers[2].triggerPorts: '' in '1,2,' is not a port or a range"
                        + " (accepted: ports 0-65535 and ranges, comma-separated, e.g. '123-456,777-789')",
                "t.yaml:10:20: triggers[2].incomingPorts: 'x' in '1-x' is not a port number (accepted: 0-65535)"),
                errors("""
                        triggers:
                          - name: a
                            triggerPorts: 123-456-789
                            incomingPorts: 5-3
                          - name: b
                            triggerPorts: 70000
                            incomingPorts: ""
                          - name: c
                            triggerPorts: 1,2,
                            incomingPorts: 1-x
                        """));
    }

    @Test
    void badPermissionRules() {
        String shape = "(accepted: 'allow|deny EXT_PORTS CIDR INT_PORTS', e.g. 'allow 1024-65535 192.168.77.0/24 1024-65535')";
        assertEquals(List.of(
                "t.yaml:2:5: permissions[0]: 'allow 1024-65535 0.0.0.0/0' is not a permission rule " + shape,
                "t.yaml:3:5: permissions[1]: 'permit' in 'permit 1024-65535 0.0.0.0/0 1024-65535' is not an action"
                        + " (accepted: allow, deny)",
                "t.yaml:4:5: permissions[2]: '0.0.0.0/40' is not a CIDR block (accepted: address/0-32, e.g. 192.168.77.0/24)",
                "t.yaml:5:5: permissions[3]: '1-2-3' is not a port or a range"
                        + " (accepted: ports 0-65535 and ranges, comma-separated, e.g. '123-456,777-789')",
                "t.yaml:6:5: permissions[4]: 'allow' is not a permission rule " + shape),
                errors("""
                        permissions:
                          - "allow 1024-65535 0.0.0.0/0"
                          - "permit 1024-65535 0.0.0.0/0 1024-65535"
                          - "allow 1024-65535 0.0.0.0/40 1024-65535"
                          - "deny 1-2-3 0.0.0.0/0 0-65535"
                          - allow
                        """));
    }

    @Test
    void overlappingTriggerRulesNameBothRulesAndLines() {
        String accepted = " (accepted: enabled rules whose trigger ports and incoming ports do not overlap)";
        assertEquals(List.of(
                "t.yaml:5:5: triggers[1]: trigger rule 'IRC alt' overlaps trigger rule 'IRC IDENT' (triggers[0] at line 2):"
                        + " both trigger on tcp 6667" + accepted,
                "t.yaml:8:5: triggers[2]: trigger rule 'ident udp' overlaps trigger rule 'IRC IDENT' (triggers[0] at line 2):"
                        + " both open incoming tcp 113" + accepted,
                "t.yaml:17:5: triggers[4]: trigger rule name 'irc ident' is already used by rule 'IRC IDENT'"
                        + " (triggers[0] at line 2) (accepted: a unique name per rule, in any case)"),
                errors("""
                        triggers:
                          - name: IRC IDENT
                            triggerPorts: 6660-7000
                            incomingPorts: 113
                          - name: IRC alt
                            triggerPorts: 6667,8000
                            incomingPorts: 114
                          - name: ident udp
                            triggerProtocol: udp
                            triggerPorts: 6667
                            incomingProtocol: both
                            incomingPorts: 100-113
                          - name: disabled rules do not conflict
                            triggerPorts: 6667
                            incomingPorts: 113
                            enabled: false
                          - name: irc ident
                            triggerPorts: 1
                            incomingPorts: 2
                        """));
    }

    @Test
    void triggerRulesOnOtherProtocolsOrPortsDoNotOverlap() throws ConfigException {
        NatgwConfig c = ok("""
                triggers:
                  - { name: a, triggerProtocol: tcp, triggerPorts: 6660-7000, incomingProtocol: tcp, incomingPorts: 113 }
                  - { name: b, triggerProtocol: udp, triggerPorts: 6660-7000, incomingProtocol: udp, incomingPorts: 113 }
                  - { name: c, triggerProtocol: both, triggerPorts: 7001, incomingProtocol: both, incomingPorts: 114 }
                """);
        assertEquals(List.of("a", "b", "c"), c.triggers().stream().map(TriggerRule::name).toList());
    }

    @Test
    void triggerRuleTimeoutMustBePositiveAndPortsAreRequired() {
        assertEquals(List.of(
                "t.yaml:2:5: triggers[0]: missing key 'incomingPorts' (accepted: the ports opened to the triggering host, e.g. 113)",
                "t.yaml:2:50: triggers[0].timeout: 0 is out of range (accepted: 1 second or more)",
                "t.yaml:3:5: triggers[1]: missing key 'name' (accepted: a unique name such as \"IRC IDENT\")",
                "t.yaml:3:5: triggers[1]: missing key 'triggerPorts' (accepted: the ports whose outbound use triggers the rule,"
                        + " e.g. 6660-7000)",
                "t.yaml:3:36: triggers[1].timeout: -5 is out of range (accepted: 1 second or more)",
                "t.yaml:4:33: triggers[2].triggerProtocol: 'icmp' is not a protocol (accepted: tcp, udp, both)"),
                errors("""
                        triggers:
                          - { name: a, triggerPorts: 6660-7000, timeout: 0 }
                          - { incomingPorts: 113, timeout: -5 }
                          - { name: c, triggerProtocol: icmp, triggerPorts: 1, incomingPorts: 2 }
                        """));
    }

    @Test
    void staticMappings() throws ConfigException {
        assertEquals(List.of(
                "t.yaml:6:19: staticMappings[1].externalPort: tcp 8080 is already mapped by staticMappings[0] at line 2"
                        + " (accepted: one static mapping per protocol and external port)",
                "t.yaml:12:5: staticMappings[3]: missing key 'internalAddress' (accepted: the LAN host's IP address,"
                        + " e.g. 192.168.77.10)",
                "t.yaml:12:15: staticMappings[3].protocol: 'sctp' is not a protocol (accepted: tcp, udp)",
                "t.yaml:14:5: staticMappings[4]: missing key 'protocol' (accepted: tcp or udp)",
                "t.yaml:18:22: staticMappings[5].internalAddress: 10.0.0.1 is not a LAN client"
                        + " (accepted: an address inside network.lan.clients: [127.0.0.0/24])"),
                errors("""
                        staticMappings:
                          - protocol: tcp
                            externalPort: 8080
                            internalAddress: 127.0.0.1
                          - protocol: TCP
                            externalPort: 8080
                            internalAddress: 127.0.0.2
                            internalPort: 80
                          - protocol: udp
                            externalPort: 8080
                            internalAddress: 127.0.0.1
                          - protocol: sctp
                            externalPort: 22
                          - externalPort: 23
                            internalAddress: 127.0.0.1
                          - protocol: tcp
                            externalPort: 24
                            internalAddress: 10.0.0.1
                        """));
        List<StaticMapping> mappings = ok("""
                staticMappings:
                  - { protocol: tcp, externalPort: 8080, internalAddress: 127.0.0.1, internalPort: 80, description: web }
                  - { protocol: udp, externalPort: 8080, internalAddress: 127.0.0.2, enabled: false }
                """).staticMappings();
        assertEquals(List.of(
                new StaticMapping(Protocol.TCP, 8080, ShippedConfigTest.ip("127.0.0.1"), 80, "web", true),
                new StaticMapping(Protocol.UDP, 8080, ShippedConfigTest.ip("127.0.0.2"), 8080, "", false)), mappings);
    }

    @Test
    void staticMappingTargetsMustBeLanClients() {
        assertEquals(List.of("t.yaml:2:57: staticMappings[0].internalAddress: 10.0.0.1 is not a LAN client"
                        + " (accepted: an address inside network.lan.clients: [127.0.0.0/24])"),
                errors("""
                        staticMappings:
                          - { protocol: tcp, externalPort: 24, internalAddress: 10.0.0.1 }
                        """));
    }

    @Test
    void staticMappingsNeverMapToTheGatewayItself() {
        assertEquals(List.of(
                "t.yaml:2:82: staticMappings[0].internalPort: 127.0.0.1:5000 is the gateway's own UPnP HTTP service (tcp 5000)"
                        + " (accepted: a LAN host's service, never one of the gateway's own)",
                "t.yaml:3:82: staticMappings[1].internalPort: 127.0.0.1:8443 is the gateway's own admin service (tcp 8443)"
                        + " (accepted: a LAN host's service, never one of the gateway's own)",
                "t.yaml:4:82: staticMappings[2].internalPort: 127.0.0.1:5351 is the gateway's own NAT-PMP/PCP service (udp 5351)"
                        + " (accepted: a LAN host's service, never one of the gateway's own)",
                "t.yaml:5:82: staticMappings[3].internalPort: 127.0.0.1:1900 is the gateway's own SSDP service (udp 1900)"
                        + " (accepted: a LAN host's service, never one of the gateway's own)"),
                errors("""
                        staticMappings:
                          - { protocol: tcp, externalPort: 80, internalAddress: 127.0.0.1, internalPort: 5000 }
                          - { protocol: tcp, externalPort: 81, internalAddress: 127.0.0.1, internalPort: 8443 }
                          - { protocol: udp, externalPort: 82, internalAddress: 127.0.0.1, internalPort: 5351 }
                          - { protocol: udp, externalPort: 83, internalAddress: 127.0.0.1, internalPort: 1900 }
                          - { protocol: tcp, externalPort: 84, internalAddress: 127.0.0.1, internalPort: 5351 }
                        """));
    }

    @Test
    void onARouterNoStaticMappingReachesTheGatewaysOwnAddresses() {
        assertEquals(List.of(
                "t.yaml:7:22: staticMappings[0].internalAddress: 192.168.77.1:22 is one of the gateway's own addresses"
                        + " (a router never maps to itself) (accepted: a LAN host's service, never one of the gateway's own)"),
                errors("""
                        network:
                          lan: { addresses: [192.168.77.1], clients: [192.168.77.0/24] }
                          wan: { address: 203.0.113.1 }
                        staticMappings:
                          - protocol: tcp
                            externalPort: 22
                            internalAddress: 192.168.77.1
                          - { protocol: tcp, externalPort: 23, internalAddress: 192.168.77.2 }
                        """));
    }

    @Test
    void theWanAddressMustBeOutsideTheLanClients() {
        assertEquals(List.of("t.yaml:3:19: network.wan.address: 127.0.1.1 is inside network.lan.clients block 127.0.0.0/8"
                        + " (accepted: an external address outside every LAN client network, e.g. 127.0.1.1 with clients"
                        + " [127.0.0.0/24], or 203.0.113.1 with [192.168.77.0/24])"),
                errors("""
                        network:
                          lan: { clients: [127.0.0.0/8] }
                          wan: { address: 127.0.1.1 }
                        """));
    }

    @Test
    void theReportedAddressIsALiteralOutsideTheLanClientsAndAllowPrivateABoolean() {
        assertEquals(List.of("t.yaml:3:24: network.wan.allowPrivate: 'maybe' is not a boolean (accepted: true, false)",
                        "t.yaml:4:27: network.wan.reportedAddress: 192.168.77.9 is inside network.lan.clients block"
                        + " 192.168.77.0/24 (accepted: \"\", or the public address clients are told, e.g. 198.51.100.7)"),
                errors("""
                        network:
                          lan: { clients: [192.168.77.0/24] }
                          wan: { allowPrivate: maybe,
                                 reportedAddress: 192.168.77.9 }
                        """));
    }

    @Test
    void stunIsAnAddressAndPort() {
        String accepted = " is not a STUN server (accepted: \"\", or IP:PORT such as 203.0.113.9:3478 or"
                + " [2001:db8::9]:3478; host names are never resolved)";
        for (String bad : List.of("stun.example.net:3478", "203.0.113.9", "203.0.113.9:0", "2001:db8::9:3478")) {
            assertEquals(List.of("t.yaml:1:25: network.wan.stun: '" + bad + "'" + accepted),
                    errors("network: { wan: { stun: \"" + bad + "\" } }"), bad);
        }
    }

    @Test
    void stunRetryAndRefreshAreBoundedSeconds() {
        assertEquals(List.of("t.yaml:2:21: network.wan.stunRetry: 0 is out of range (accepted: 1-300 seconds)",
                        "t.yaml:3:23: network.wan.stunRefresh: 59 is out of range (accepted: 60-86400 seconds)"),
                errors("""
                        network:
                          wan: { stunRetry: 0,
                                 stunRefresh: 59 }
                        """));
        assertEquals(List.of("t.yaml:1:30: network.wan.stunRetry: '1s' is not an integer (accepted: 1-300 seconds)"),
                errors("network: { wan: { stunRetry: 1s } }"));
    }

    @Test
    void upnpIdentityKeys() {
        assertEquals(List.of("t.yaml:2:8: upnp.udn: 'natgw-1' is not a UUID (accepted: \"\" to generate one, or e.g."
                        + " 5f3c2a9e-1b7d-4c8e-9a6f-2d4b8e1c7a30)",
                        "t.yaml:3:17: upnp.manufacturer: '' is not accepted (accepted: 1-64 printable characters)"),
                errors("""
                        upnp:
                          udn: natgw-1
                          manufacturer: ""
                        """));
    }

    @Test
    void subnetBudgetKeys() {
        assertEquals(List.of(
                "t.yaml:2:19: limits.perSubnetQuota: 0 is out of range (accepted: 1 or more)",
                "t.yaml:3:23: limits.subnetPrefixLength: 33 is out of range (accepted: 0-32)",
                "t.yaml:4:25: limits.subnetPrefixLengthV6: 129 is out of range (accepted: 0-128)",
                "t.yaml:5:16: limits.maxMappings: 'lots' is not a mapping count (accepted: auto, or 1-2147483647)"),
                errors("""
                        limits:
                          perSubnetQuota: 0
                          subnetPrefixLength: 33
                          subnetPrefixLengthV6: 129
                          maxMappings: lots
                        """));
    }

    @Test
    void lifetimeBoundsAndLimits() {
        assertEquals(List.of(
                "t.yaml:2:16: pcp.minLifetime: 7200 is more than pcp.maxLifetime 3600 (accepted: minLifetime <= maxLifetime)",
                "t.yaml:5:16: upnp.v1ZeroLease: 7200 is more than upnp.maxLease 3600 (accepted: v1ZeroLease <= maxLease)",
                "t.yaml:8:19: limits.perClientQuota: 0 is out of range (accepted: 1 or more)",
                "t.yaml:9:16: limits.maxMappings: '-3' is not a mapping count (accepted: auto, or 1-2147483647)"),
                errors("""
                        pcp:
                          minLifetime: 7200
                          maxLifetime: 3600
                        upnp:
                          v1ZeroLease: 7200
                          maxLease: 3600
                        limits:
                          perClientQuota: 0
                          maxMappings: -3
                        """));
        assertEquals(List.of(
                "t.yaml:1:21: pcp.maxLifetime: 4294967296 is out of range (accepted: 1-4294967295 seconds)",
                "t.yaml:2:19: upnp.maxLease: 604801 is out of range (accepted: 1-604800 seconds)"),
                errors("pcp: { maxLifetime: 4294967296 }\nupnp: { maxLease: 604801 }\n"));
    }

    @Test
    void plainHttpOnlyOnLoopback() throws ConfigException {
        assertEquals(List.of("t.yaml:3:14: admin.plainHttp: true is refused because admin address 192.168.77.1 is not loopback"
                        + " (accepted: false, or plain HTTP with loopback addresses only such as 127.0.0.1 or ::1)"),
                errors("""
                        admin:
                          addresses: [127.0.0.1, 192.168.77.1]
                          plainHttp: true
                        """));
        NatgwConfig.Admin admin = ok("admin: { addresses: [127.0.0.2, '::1'], plainHttp: true }").admin();
        assertEquals(new NatgwConfig.Admin(true, List.of(ShippedConfigTest.ip("127.0.0.2"), ShippedConfigTest.ip("::1")),
                8443, true), admin);
    }

    @Test
    void serviceConflictsAndInterfaces() throws ConfigException {
        assertEquals(List.of(
                "t.yaml:4:9: admin.port: 5000 is also upnp.httpPort (accepted: a TCP port other than 5000)",
                "t.yaml:6:9: dataplane.mode: linux-gateway needs network.wan.interface and network.lan.interfaces"
                        + " (accepted: userspace, or linux-gateway with the interfaces named, e.g. wan interface: eth0,"
                        + " lan interfaces: [eth1])",
                "t.yaml:7:19: dataplane.udpIdleTimeout: 119 is out of range (accepted: 120 seconds or more)"),
                errors("""
                        upnp:
                          httpPort: 5000
                        admin:
                          port: 5000
                        dataplane:
                          mode: linux-gateway
                          udpIdleTimeout: 119
                        """));
        NatgwConfig c = ok("""
                network: { lan: { interfaces: [veth-lan0] }, wan: { interface: veth-wan0 } }
                upnp: { enabled: false, httpPort: 5000 }
                admin: { port: 5000 }
                dataplane: { mode: Linux-Gateway, relay: splice }
                """);
        assertEquals(NatgwConfig.DataplaneMode.LINUX_GATEWAY, c.dataplane().mode());
        assertEquals(NatgwConfig.RelayMode.SPLICE, c.dataplane().relay());
        assertEquals(List.of("veth-lan0"), c.network().lanInterfaces());
        assertEquals("veth-wan0", c.network().wanInterface());
        assertEquals(List.of("t.yaml:1:32: network.lan.interfaces[0]: 'eth 0' is not an interface name"
                        + " (accepted: 1-15 characters without spaces, '/' or ':', e.g. eth0)"),
                errors("network: { lan: { interfaces: ['eth 0'] } }"));
    }

    @Test
    void emptyListsWhereOneIsNeeded() {
        assertEquals(List.of(
                "t.yaml:1:30: network.lan.addresses: no address (accepted: at least one LAN address to listen on,"
                        + " e.g. [192.168.77.1, fd00:77::1])",
                "t.yaml:1:42: network.lan.clients: no client network (accepted: at least one CIDR block,"
                        + " e.g. [192.168.77.0/24, fd00:77::/64])"),
                errors("network: { lan: { addresses: [], clients: } }"));
    }

    @Test
    void yamlSyntaxErrorsCarryTheParsersLineAndColumn() {
        assertEquals(List.of("t.yaml:3:11: YAML syntax error: mapping values are not allowed here"),
                errors("pcp:\n  port: 5351\n   enabled: true\n"));
        assertEquals(List.of("t.yaml:3:1: YAML syntax error: found character '\\t(TAB)' that cannot start any token."
                        + " (Do not use \\t(TAB) for indentation)"),
                errors("pcp:\n  port: 5351\n\tenabled: true\n"));
        assertEquals(List.of("t.yaml:3:4: YAML syntax error: expected ',' or ']', but got :"
                        + " (while parsing a flow sequence that starts at line 2, column 14)"),
                errors("admin:\n  addresses: [127.0.0.1\npcp: {}\n"));
    }

    @Test
    void documentShape() {
        assertEquals(List.of("t.yaml:3:3: pcp.port: duplicate key (accepted: each key once; the first is at line 2)"),
                errors("pcp:\n  port: 5351\n  port: 5352\n"));
        assertEquals(List.of("t.yaml:1:1: the document is a list (accepted: a mapping of keys such as 'network:', 'pcp:', 'upnp:')"),
                errors("- a\n- b\n"));
        assertEquals(List.of("t.yaml:3:1: a second YAML document (accepted: one document; remove the '---' line)"),
                errors("pcp: {port: 1}\n---\npcp: {port: 2}\n"));
        assertEquals(List.of("t.yaml:2:22: upnp.friendlyName: YAML alias '*N' (accepted: the value written out; aliases are"
                        + " not supported)"),
                errors("admin: &N {}\nupnp: {friendlyName: *N}\n"));
    }

    @Test
    void everyErrorIsReportedAtOnceInFileOrder() {
        List<String> all = errors("""
                dataplane:
                  udpIdleTimeout: 30
                pcp:
                  port: 0
                network:
                  wan:
                    address: example.org
                """);
        assertEquals(List.of(
                "t.yaml:2:19: dataplane.udpIdleTimeout: 30 is out of range (accepted: 120 seconds or more)",
                "t.yaml:4:9: pcp.port: 0 is out of range (accepted: 1-65535)",
                "t.yaml:7:14: network.wan.address: 'example.org' is neither 'auto' nor an IP address literal"
                        + " (accepted: auto, or an address such as 203.0.113.1; host names are never resolved)"), all);
    }

    @Test
    void unreadableFiles(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing.yaml");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(missing));
        assertEquals(List.of(missing + ": cannot read the file: no such file"),
                e.errors().stream().map(ConfigError::toString).toList());
        Path latin1 = dir.resolve("latin1.yaml");
        Files.write(latin1, new byte[] {'u', 'p', 'n', 'p', ':', ' ', '{', 'f', 'r', 'i', 'e', 'n', 'd', 'l', 'y', 'N', 'a',
            'm', 'e', ':', ' ', (byte) 0xe9, '}', '\n'});
        e = assertThrows(ConfigException.class, () -> ConfigLoader.load(latin1));
        assertEquals(latin1 + ": not UTF-8 text (accepted: a UTF-8 YAML file)", e.errors().get(0).toString());
        assertEquals(e.errors().get(0).toString(), e.getMessage());
    }
}
