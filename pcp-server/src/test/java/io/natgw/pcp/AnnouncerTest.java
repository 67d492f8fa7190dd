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
            listener.setSoTimeout(30_000); // a ceiling that only catches a hang
            InetSocketAddress target = (InetSocketAddress) listener.getLocalSocketAddress();
            try (ServerFixture fx = new ServerFixture(ServerFixture.Options.defaults().announceTo(target))) {
                // the first round: NAT-PMP address response and PCP ANNOUNCE at once, the next one 250 ms later
                assertEquals(new NatPmpResponse.ExternalAddress(NatPmpResultCode.SUCCESS, 0, (Inet4Address) ServerFixture.WAN),
                        NatPmpCodec.decodeResponse(ByteBuffer.wrap(receive(listener))));
                PcpResponse announce = PcpCodec.decodeResponse(ByteBuffer.wrap(receive(listener)));
                assertEquals(new PcpResponse(0, PcpResultCode.SUCCESS, 0, 0, new PcpOpcodeData.Announce(), List.of()), announce);
                HandDrivenScheduler.Timer second = fx.announceSchedule.next();
                assertEquals(Duration.ofMillis(250), second.delay(), "the second announcement's interval");
                second.fire();
                assertEquals(List.of(12, 24), List.of(receive(listener).length, receive(listener).length), "second announcement");
                HandDrivenScheduler.Timer third = fx.announceSchedule.next();
                assertEquals(Duration.ofMillis(500), third.delay(), "the interval doubles");

                // an address change starts a new round with the new address, and cancels the old round's timer
                fx.clock.advance(Duration.ofSeconds(3));
                Outcome o = fx.table.apply(new MappingRequest.SetExternalAddress(Owner.of(CLIENT, Origin.ADMIN), ip("127.0.1.2")));
                assertInstanceOf(Outcome.Done.class, o);
                // RFC 6887 §8.5, RFC 6886 §3.6: the new address starts a new epoch (it was 3 s old)
                assertEquals(new NatPmpResponse.ExternalAddress(NatPmpResultCode.SUCCESS, 0, (Inet4Address) ip("127.0.1.2")),
                        NatPmpCodec.decodeResponse(ByteBuffer.wrap(receive(listener))));
                assertEquals(0, PcpCodec.decodeResponse(ByteBuffer.wrap(receive(listener))).epoch(), "the PCP ANNOUNCE's epoch too");
                HandDrivenScheduler.Timer newRound = fx.announceSchedule.next();
                assertTrue(third.cancelled().get(), "the old round's timer is cancelled");
                assertEquals(Duration.ofMillis(250), newRound.delay(), "a new round starts at 250 ms again");

                // an old round's timer that fires anyway (its cancel came too late) sends nothing and sets no timer
                third.fire();
                newRound.fire();
                assertEquals(new NatPmpResponse.ExternalAddress(NatPmpResultCode.SUCCESS, 0, (Inet4Address) ip("127.0.1.2")),
                        NatPmpCodec.decodeResponse(ByteBuffer.wrap(receive(listener))));
                assertEquals(24, receive(listener).length);
                assertEquals(Duration.ofMillis(500), fx.announceSchedule.next().delay());
                assertEquals(0, fx.announceSchedule.waiting(), "one chain of timers, not two");
            }
        }
    }

    @Test
    void aRoundIsTenAnnouncementsThenStops() throws Exception {
        try (DatagramSocket listener = new DatagramSocket(new InetSocketAddress(CLIENT, 0))) {
            listener.setSoTimeout(30_000);
            try (ServerFixture fx = new ServerFixture(ServerFixture.Options.defaults()
                    .announceTo((InetSocketAddress) listener.getLocalSocketAddress()))) {
                List<Duration> delays = new ArrayList<>();
                for (int n = 1; n <= Announcer.TIMES; n++) {
                    assertEquals(List.of(12, 24), List.of(receive(listener).length, receive(listener).length), "announcement " + n);
                    if (n < Announcer.TIMES) {
                        HandDrivenScheduler.Timer t = fx.announceSchedule.next();
                        delays.add(t.delay());
                        t.fire();
                    }
                }
                assertEquals(List.of(250L, 500L, 1000L, 2000L, 4000L, 8000L, 16000L, 32000L, 64000L),
                        delays.stream().map(Duration::toMillis).toList());
                // the tenth set no timer: the server answers a request, and no further timer appeared meanwhile
                assertEquals(12, fx.client(CLIENT).exchange(NatPmpCodecTest.EXTERNAL_ADDRESS_REQUEST).length);
                assertEquals(0, fx.announceSchedule.waiting(), "no eleventh announcement is scheduled");
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
