package io.natgw.it.pcp;

import com.offbynull.portmapper.gateway.Gateway;
import com.offbynull.portmapper.gateways.network.NetworkGateway;
import com.offbynull.portmapper.gateways.network.internalmessages.KillNetworkRequest;
import com.offbynull.portmapper.mapper.MappedPort;
import com.offbynull.portmapper.mapper.PortType;
import com.offbynull.portmapper.mappers.pcp.PcpPortMapper;

import java.net.InetAddress;

/**
 * {@code com.offbynull.portmapper}'s PCP client, a PCP implementation natgw does not include, run on a namespace host
 * ({@code ip netns exec LAN java -cp TESTCLASSPATH PortmapperPcpClient INTERNAL GATEWAY tcp|udp PORT LIFETIME [hold]}).
 * Its discovery ignores what this test needs (TESTING-NOTES), so the mapper is built directly with the host's IPv6
 * address and the gateway's. It maps, refreshes and unmaps, printing one line per step:
 * {@code MAPPED internalPort externalPort externalAddress lifetime}, {@code REFRESHED ...}, {@code UNMAPPED}, or
 * {@code FAILED step: exception} (and exit 1) at the first failure. With {@code hold} it prints {@code HOLDING} after
 * the map and waits for a line on its standard input before it refreshes and unmaps (the test checks the forwarding
 * meanwhile; the unmap needs this process's nonce).
 */
public final class PortmapperPcpClient {

    private PortmapperPcpClient() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress internal = InetAddress.getByName(args[0]);
        InetAddress gateway = InetAddress.getByName(args[1]);
        PortType type = args[2].equals("udp") ? PortType.UDP : PortType.TCP;
        int port = Integer.parseInt(args[3]);
        long lifetime = Long.parseLong(args[4]);
        Gateway network = NetworkGateway.create();
        int exit = 0;
        String step = "map";
        try {
            PcpPortMapper mapper = new PcpPortMapper(network.getBus(), internal, gateway);
            MappedPort m = mapper.mapPort(type, port, port, lifetime);
            print("MAPPED", m);
            if (args.length > 5 && args[5].equals("hold")) {
                System.out.println("HOLDING");
                System.out.flush();
                new java.io.BufferedReader(new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.US_ASCII)).readLine();
            }
            step = "refresh";
            MappedPort r = mapper.refreshPort(m, lifetime * 2);
            print("REFRESHED", r);
            step = "unmap";
            mapper.unmapPort(r);
            System.out.println("UNMAPPED");
        } catch (RuntimeException e) {
            System.out.println("FAILED " + step + ": " + e);
            exit = 1;
        } finally {
            network.getBus().send(new KillNetworkRequest());
            network.join();
        }
        System.out.flush();
        System.exit(exit);
    }

    private static void print(String what, MappedPort m) {
        System.out.println(what + " " + m.getInternalPort() + " " + m.getExternalPort() + " "
                + m.getExternalAddress().getHostAddress() + " " + m.getLifetime());
        System.out.flush();
    }
}
