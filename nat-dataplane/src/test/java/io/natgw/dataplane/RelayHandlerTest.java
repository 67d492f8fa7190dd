package io.natgw.dataplane;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RelayHandlerTest {

    @Test
    void forwardsToThePeerAndCountsTheDirection() {
        Meter totals = new Meter(null);
        Meter meter = new Meter(totals);
        EmbeddedChannel peer = new EmbeddedChannel();
        EmbeddedChannel wan = new EmbeddedChannel(new RelayHandler(peer, meter, true));

        wan.writeInbound(Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII));

        ByteBuf out = peer.readOutbound();
        assertEquals("abc", out.toString(StandardCharsets.US_ASCII));
        out.release();
        assertEquals(new io.natgw.core.TrafficStats.Counters(3, 0, 1, 0, 0), meter.snapshot());
        assertEquals(meter.snapshot(), totals.snapshot());
        wan.finishAndReleaseAll();
        peer.finishAndReleaseAll();
    }

    @Test
    void releasesWhatArrivesAfterThePeerIsGoneAndClosesItselfOnce() {
        Meter meter = new Meter(null);
        EmbeddedChannel peer = new EmbeddedChannel();
        EmbeddedChannel lan = new EmbeddedChannel(new RelayHandler(peer, meter, false));
        peer.close();

        ByteBuf late = Unpooled.copiedBuffer("late", StandardCharsets.US_ASCII);
        lan.writeInbound(late);

        assertEquals(0, late.refCnt(), "a buffer the relay drops is released");
        assertEquals(io.natgw.core.TrafficStats.Counters.ZERO, meter.snapshot());

        EmbeddedChannel other = new EmbeddedChannel();
        EmbeddedChannel front = new EmbeddedChannel(new RelayHandler(other, meter, true));
        front.close();
        assertFalse(other.isOpen(), "closing one side closes the other");
        assertTrue(other.outboundMessages().isEmpty() || other.finishAndReleaseAll());
    }
}
