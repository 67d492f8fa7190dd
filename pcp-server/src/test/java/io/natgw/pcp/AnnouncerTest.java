package io.natgw.pcp;

import io.natgw.core.MappingRequest;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import org.junit.jupiter.api.Test;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.natgw.pcp.ServerFixture.CLIENT;
import static io.natgw.pcp.ServerFixture.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Gratuitous announcements (RFC 6886 §3.2.1, RFC 6887 §14.1.3), redirected from 224.0.0.1:5350 to a loopback socket. */
class AnnouncerTest {

    @Test
    void backOffStartsAt250MsAndDoublesForTenAnnouncements() {
        List<Long> gaps = new ArrayList<>();
        for (int n = 1; n < Announcer.TIMES; n++) {
            gaps.add(Announcer.intervalBefore(n).toMillis());
        }
        assertEquals(List.of(250L, 500L, 1000L, 2000L, 4000L, 8000L, 16000L, 32000L, 64000L), gaps);
    }

    @Test
    void announcesOnStartAndOnExternalAddressChange() throws Exception {
        try (DatagramSocket listener = new DatagramSocket(new InetSocketAddress(CLIENT, 0))) {
            listener.setSoTimeout(5000);
            InetSocketAddress target = (InetSocketAddress) listener.getLocalSocketAddress();
            try (ServerFixture fx = new ServerFixture(ServerFixture.Options.defaults().announceTo(target))) {
                // the first round: NAT-PMP address response and PCP ANNOUNCE, then again 250 ms later
                long t0 = System.nanoTime();
                assertEquals(new NatPmpResponse.ExternalAddress(NatPmpResultCode.SUCCESS, 0, (Inet4Address) ServerFixture.WAN),
                        NatPmpCodec.decodeResponse(ByteBuffer.wrap(receive(listener))));
                PcpResponse announce = PcpCodec.decodeResponse(ByteBuffer.wrap(receive(listener)));
                assertEquals(new PcpResponse(0, PcpResultCode.SUCCESS, 0, 0, new PcpOpcodeData.Announce(), List.of()), announce);
                assertEquals(12, receive(listener).length);
                long gapMillis = Duration.ofNanos(System.nanoTime() - t0).toMillis();
                assertTrue(gapMillis >= 200, "second announcement after " + gapMillis + " ms");
                assertEquals(24, receive(listener).length);

                // an address change starts a new round with the new address
                fx.clock.advance(Duration.ofSeconds(3));
                Outcome o = fx.table.apply(new MappingRequest.SetExternalAddress(Owner.of(CLIENT, Origin.ADMIN), ip("127.0.1.2")));
                assertInstanceOf(Outcome.Done.class, o);
                NatPmpResponse.ExternalAddress changed = null;
                for (int i = 0; i < 8 && changed == null; i++) {
                    byte[] d = receive(listener);
                    if (d.length == 12) {
                        NatPmpResponse.ExternalAddress a = (NatPmpResponse.ExternalAddress) NatPmpCodec.decodeResponse(ByteBuffer.wrap(d));
                        if (a.address().equals(ip("127.0.1.2"))) {
                            changed = a;
                        }
                    }
                }
                assertEquals(new NatPmpResponse.ExternalAddress(NatPmpResultCode.SUCCESS, 3, (Inet4Address) ip("127.0.1.2")), changed);
            }
        }
    }

    @Test
    void multicastOnLoopbackMayFailButTheServerKeepsAnswering() throws Exception {
        try (ServerFixture fx = new ServerFixture(ServerFixture.Options.defaults().announceMulticast())) {
            ServerFixture.Client c = fx.client(CLIENT);
            assertEquals(12, c.exchange(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST).length);
            fx.table.apply(new MappingRequest.SetExternalAddress(Owner.of(CLIENT, Origin.ADMIN), ip("127.0.1.3")));
            assertEquals(new NatPmpResponse.ExternalAddress(NatPmpResultCode.SUCCESS, 0, (Inet4Address) ip("127.0.1.3")),
                    NatPmpCodec.decodeResponse(ByteBuffer.wrap(c.exchange(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST))));
        }
    }

    private static byte[] receive(DatagramSocket s) throws Exception {
        byte[] buf = new byte[2048];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        s.receive(p);
        return Arrays.copyOf(buf, p.getLength());
    }
}
