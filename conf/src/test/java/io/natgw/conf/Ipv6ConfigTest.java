package io.natgw.conf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 14: IPv6 in network.lan.addresses, network.lan.clients, pcp.thirdPartyClients and staticMappings. */
class Ipv6ConfigTest {

    private static final Path FILE = Path.of("t.yaml");

    private static List<String> errors(String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, FILE));
        return e.errors().stream().map(ConfigError::toString).toList();
    }

    @Test
    void ipv6LanAddressesClientsAndThirdPartiesAreAccepted() throws ConfigException {
        NatgwConfig c = ConfigLoader.parse("""
                network:
                  lan:
                    addresses: [192.168.77.1, "fd00:77::1", "fe80::1%1"]
                    clients: [192.168.77.0/24, "fd00:77::/64", "fe80::/10"]
                  wan: { address: 203.0.113.1 }
                pcp: { thirdPartyClients: ["fd00:77::10/128"] }
                """, FILE);
        List<InetAddress> lan = c.network().lanAddresses();
        assertEquals(List.of(Addresses.parseLiteral("192.168.77.1"), Addresses.parseLiteral("fd00:77::1"),
                Addresses.parseLiteral("fe80::1")), lan);
        assertEquals(1, ((Inet6Address) lan.get(2)).getScopeId(), "the link-local address keeps its zone");
        assertEquals(List.of(Cidr.parse("192.168.77.0/24"), Cidr.parse("fd00:77::/64"), Cidr.parse("fe80::/10")),
                c.network().lanClients());
        assertEquals(true, c.network().isLanClient(Addresses.parseLiteral("fd00:77::10")));
        assertEquals(false, c.network().isLanClient(Addresses.parseLiteral("fd00:78::10")));
        assertEquals(List.of(Cidr.parse("fd00:77::10/128")), c.pcp().thirdPartyClients());
    }

    @Test
    void badLanAddressesAreRefusedWithWhatIsAccepted() {
        String accepted = " (accepted: an IPv4 or IPv6 unicast address such as 192.168.77.1 or fd00:77::1; an IPv6"
                + " link-local one with its interface, such as fe80::1%eth1)";
        assertEquals(List.of(
                "t.yaml:3:17: network.lan.addresses[0]: 'fe80::1' is link-local and names no interface; a link-local"
                        + " address is ambiguous without it (accepted: e.g. fe80::1%eth1)",
                "t.yaml:3:28: network.lan.addresses[1]: '::ffff:192.168.77.1' is an IPv4-mapped IPv6 address; write it"
                        + " as 192.168.77.1" + accepted,
                "t.yaml:3:51: network.lan.addresses[2]: 'ff02::1' is multicast, not an address of this host" + accepted,
                "t.yaml:3:62: network.lan.addresses[3]: '::' is unspecified, not an address of this host" + accepted,
                "t.yaml:3:68: network.lan.addresses[4]: 'fd00:77::1%eth1': only an IPv6 link-local address (fe80::/10)"
                        + " takes a zone" + accepted,
                "t.yaml:3:87: network.lan.addresses[5]: 'fe80::1%nosuch0': this host has no interface nosuch0 with an"
                        + " IPv6 link-local address" + accepted,
                "t.yaml:3:106: network.lan.addresses[6]: 'fe80::1%a/b': 'a/b' is not an interface name or index" + accepted),
                errors("""
                        network:
                          lan:
                            addresses: ["fe80::1", "::ffff:192.168.77.1", "ff02::1", "::", "fd00:77::1%eth1", "fe80::1%nosuch0", "fe80::1%a/b"]
                        """));
    }

    @Test
    void badClientNetworksAreRefused() {
        assertEquals(List.of(
                "t.yaml:3:15: network.lan.clients[0]: '::ffff:192.168.77.0/120' is an IPv4-mapped IPv6 block; write it as"
                        + " 192.168.77.0/24 (accepted: a CIDR block such as 192.168.77.0/24 or fd00:77::/64)",
                "t.yaml:3:42: network.lan.clients[1]: 'ff00::/8' is a multicast block, no client sends from it (accepted:"
                        + " a CIDR block such as 192.168.77.0/24 or fd00:77::/64)",
                "t.yaml:3:54: network.lan.clients[2]: 'fd00:77::/129' is not a CIDR block (accepted: address/0-128,"
                        + " e.g. 192.168.77.0/24)"),
                errors("""
                        network:
                          lan:
                            clients: ["::ffff:192.168.77.0/120", "ff00::/8", "fd00:77::/129"]
                        """));
    }

    @Test
    void aStaticMappingToAnIpv6HostIsAStaticPinhole() throws ConfigException {
        String lan = """
                network:
                  lan: { clients: [127.0.0.0/24, "fd00:77::/64"], interfaces: [eth1] }
                  wan: { interface: eth0 }
                """;
        NatgwConfig c = ConfigLoader.parse(lan + """
                dataplane: { mode: linux-gateway }
                staticMappings:
                  - { protocol: tcp, externalPort: 443, internalAddress: "fd00:77::10" }
                """, FILE);
        assertEquals(List.of(new StaticMapping(Protocol.TCP, 443, Addresses.parseLiteral("fd00:77::10"), 443, "", true)),
                c.staticMappings());
        assertEquals(List.of(
                "t.yaml:5:58: staticMappings[0].internalAddress: fd00:77::10 is IPv6: a static pinhole needs"
                        + " dataplane.mode linux-gateway with dataplane.forwarding kernel (accepted: an IPv4 LAN host, or"
                        + " that mode)"),
                errors(lan + """
                        staticMappings:
                          - { protocol: tcp, externalPort: 443, internalAddress: "fd00:77::10" }
                        """));
        assertEquals(List.of(
                "t.yaml:6:88: staticMappings[0].internalPort: 80 differs from externalPort 8080: a static mapping to an IPv6"
                        + " host is a pinhole, which translates nothing (accepted: internalPort 8080, or no internalPort)",
                "t.yaml:7:59: staticMappings[1].internalAddress: fe80:0:0:0:0:0:0:10 is not a host a pinhole can open to"
                        + " (accepted: a global or unique-local IPv6 unicast address, e.g. fd00:77::10)",
                "t.yaml:8:59: staticMappings[2].internalAddress: fd00:78:0:0:0:0:0:10 is not a LAN client (accepted: an"
                        + " address inside network.lan.clients: [127.0.0.0/24, fd00:77:0:0:0:0:0:0/64])"),
                errors(lan + """
                        dataplane: { mode: linux-gateway }
                        staticMappings:
                          - { protocol: tcp, externalPort: 8080, internalAddress: "fd00:77::10", internalPort: 80 }
                          - { protocol: tcp, externalPort: 8081, internalAddress: "fe80::10" }
                          - { protocol: tcp, externalPort: 8082, internalAddress: "fd00:78::10" }
                        """));
    }
}
