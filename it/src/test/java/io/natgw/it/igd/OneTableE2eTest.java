package io.natgw.it.igd;

import io.natgw.igd.Soap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * UPnP and NAT-PMP are two views of one table: a NAT-PMP mapping is listed over UPnP, a port held over one
 * protocol is refused (718) or moved (NAT-PMP picks another port) over the other. NAT-PMP is spoken here
 * byte by byte (RFC 6886 §3.3) on the daemon's PCP port, which is not 5351 so parallel runs do not collide.
 */
class OneTableE2eTest {

    private static final InetAddress A = IgdDaemon.address("127.0.0.1");
    private static final InetAddress B = IgdDaemon.address("127.0.0.2");
    private static IgdDaemon gw;
    private static int pcpPort;

    @BeforeAll
    static void start() {
        pcpPort = IgdDaemon.freeUdpPort();
        gw = IgdDaemon.start(false, pcpPort);
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    /** RFC 6886 §3.3 mapping request; returns {result code, mapped external port, lifetime}. */
    private static int[] natPmpMapTcp(int internal, int suggestedExternal, int lifetime) throws Exception {
        ByteBuffer req = ByteBuffer.allocate(12)
                .put((byte) 0)            // version 0
                .put((byte) 2)            // opcode 2: map TCP
                .putShort((short) 0)      // reserved
                .putShort((short) internal)
                .putShort((short) suggestedExternal)
                .putInt(lifetime);
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(A, 0))) {
            s.setSoTimeout(30_000); // a ceiling that only catches a lost answer or a hang
            s.send(new DatagramPacket(req.array(), 12, A, pcpPort));
            byte[] buf = new byte[64];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            s.receive(p);
            ByteBuffer r = ByteBuffer.wrap(buf, 0, p.getLength());
            // version, opcode 130, result code, epoch, internal port, mapped external port, lifetime
            r.get();
            assertEquals(130, r.get() & 0xff);
            int result = r.getShort() & 0xffff;
            r.getInt();
            r.getShort();
            int external = r.getShort() & 0xffff;
            return new int[] {result, external, r.getInt()};
        }
    }

    @Test
    void natPmpAndUpnpShareOneTable() throws Exception {
        int[] pmp = natPmpMapTcp(45001, 45001, 600);
        assertEquals(List.of(0, 45001), List.of(pmp[0], pmp[1]));
        Soap.Result listed = gw.soap(2).callFrom(A, "GetSpecificPortMappingEntry", "NewRemoteHost", "",
                "NewExternalPort", "45001", "NewProtocol", "TCP");
        assertEquals(List.of("127.0.0.1", "45001"), List.of(listed.outputs().get("NewInternalClient"),
                listed.outputs().get("NewInternalPort")), "UPnP lists the NAT-PMP mapping: " + listed.body());
        Soap.Result clash = gw.soap(1).callFrom(B, "AddPortMapping", "NewRemoteHost", "", "NewExternalPort", "45001",
                "NewProtocol", "TCP", "NewInternalPort", "45001", "NewInternalClient", "127.0.0.2", "NewEnabled", "1",
                "NewPortMappingDescription", "b", "NewLeaseDuration", "600");
        assertEquals(718, clash.errorCode(), "the NAT-PMP client holds the port: " + clash.body());

        Soap.Result upnp = gw.soap(1).callFrom(B, "AddPortMapping", "NewRemoteHost", "", "NewExternalPort", "45002",
                "NewProtocol", "TCP", "NewInternalPort", "45002", "NewInternalClient", "127.0.0.2", "NewEnabled", "1",
                "NewPortMappingDescription", "b", "NewLeaseDuration", "600");
        assertEquals(0, upnp.errorCode(), upnp.body());
        int[] moved = natPmpMapTcp(45002, 45002, 600);
        assertEquals(0, moved[0]);
        assertNotEquals(45002, moved[1], "NAT-PMP gets another external port: the UPnP client holds 45002");

        assertEquals(List.of(0, 0), List.of(natPmpMapTcp(45001, 0, 0)[0], natPmpMapTcp(45002, 0, 0)[0]));
        gw.soap(1).callFrom(B, "DeletePortMapping", "NewRemoteHost", "", "NewExternalPort", "45002", "NewProtocol", "TCP");
    }
}
