package io.natgw.dataplane;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
        assertEquals(new RelayCounters(3, 0, 0, 0, 1, 0, 0, 0), meter.counters(), "one TCP read of 3 bytes, no datagram");
        assertEquals(new io.natgw.core.TrafficStats.Counters(3, 0, 0, 0, 0), meter.snapshot(), "a TCP read is not a packet");
        assertEquals(meter.counters(), totals.counters());
        wan.finishAndReleaseAll();
        peer.finishAndReleaseAll();
    }

    @Test
    void stopsReadingAtTheEndOfAReadLoopWhileThePeerIsFull() {
        EmbeddedChannel peer = new EmbeddedChannel();
        peer.config().setWriteBufferWaterMark(new io.netty.channel.WriteBufferWaterMark(1024, 2048));
        EmbeddedChannel wan = new EmbeddedChannel(new RelayHandler(peer, new Meter(null), true, false, false));

        // Batch mode writes without flushing until the read loop ends: two reads of 1200 bytes pass the 2048 mark.
        wan.pipeline().fireChannelRead(Unpooled.wrappedBuffer(new byte[1200]));
        wan.pipeline().fireChannelRead(Unpooled.wrappedBuffer(new byte[1200]));
        assertFalse(peer.isWritable());
        assertTrue(wan.config().isAutoRead(), "no pause in the middle of a read loop");
        assertTrue(peer.outboundMessages().isEmpty(), "nothing flushed before the read loop ends");

        wan.pipeline().fireChannelReadComplete(); // flushes (an embedded peer drains at once)
        assertEquals(2, peer.outboundMessages().size());
        assertTrue(peer.isWritable());
        wan.finishAndReleaseAll();
        peer.finishAndReleaseAll();
    }

    @Test
    void flushEachReadWritesThroughAtOnce() {
        EmbeddedChannel peer = new EmbeddedChannel();
        EmbeddedChannel wan = new EmbeddedChannel(new RelayHandler(peer, new Meter(null), true, true, false));

        wan.pipeline().fireChannelRead(Unpooled.copiedBuffer("now", StandardCharsets.US_ASCII));

        ByteBuf out = peer.readOutbound(); // flushed without a channelReadComplete
        assertEquals("now", out.toString(StandardCharsets.US_ASCII));
        out.release();
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
        assertNull(other.readOutbound(), "nothing was queued to the other side, so nothing is written before its close");
    }

    @Test
    void aPendingRelayHoldsWhatArrivesBeforeItsPeerConnectsAndPassesItOnInOrder() {
        Meter meter = new Meter(null);
        EmbeddedChannel peer = new EmbeddedChannel();
        RelayHandler relay = new RelayHandler(peer, meter, true, false, false, true);
        EmbeddedChannel wan = new EmbeddedChannel(relay);

        wan.pipeline().fireChannelRead(Unpooled.copiedBuffer("ab", StandardCharsets.US_ASCII));
        wan.pipeline().fireChannelRead(Unpooled.copiedBuffer("c", StandardCharsets.US_ASCII));
        wan.pipeline().fireChannelReadComplete();
        assertTrue(peer.outboundMessages().isEmpty(), "nothing passed on while the peer connects");
        assertEquals(io.natgw.core.TrafficStats.Counters.ZERO, meter.snapshot(), "held bytes are not counted yet");

        relay.peerConnected();
        ByteBuf first = peer.readOutbound();
        ByteBuf second = peer.readOutbound();
        assertEquals("ab", first.toString(StandardCharsets.US_ASCII));
        assertEquals("c", second.toString(StandardCharsets.US_ASCII));
        first.release();
        second.release();
        assertEquals(new RelayCounters(3, 0, 0, 0, 2, 0, 0, 0), meter.counters(), "counted once passed on");

        wan.writeInbound(Unpooled.copiedBuffer("d", StandardCharsets.US_ASCII));
        ByteBuf after = peer.readOutbound();
        assertEquals("d", after.toString(StandardCharsets.US_ASCII), "relays directly once connected");
        after.release();
        wan.finishAndReleaseAll();
        peer.finishAndReleaseAll();
    }

    @Test
    void aPendingRelayWhoseChannelClosesReleasesWhatItHeldAndClosesThePeer() {
        EmbeddedChannel peer = new EmbeddedChannel();
        EmbeddedChannel wan = new EmbeddedChannel(new RelayHandler(peer, new Meter(null), true, false, false, true));
        ByteBuf held = Unpooled.copiedBuffer("held", StandardCharsets.US_ASCII);
        wan.pipeline().fireChannelRead(held);

        wan.close();

        assertEquals(0, held.refCnt(), "what was held is released");
        assertFalse(peer.isOpen(), "the connecting peer is closed");
        peer.finishAndReleaseAll();
    }

    @Test
    void aClosingSideFlushesWhatItQueuedToTheOtherBeforeClosingIt() {
        EmbeddedChannel other = new EmbeddedChannel();
        EmbeddedChannel front = new EmbeddedChannel(new RelayHandler(other, new Meter(null), true));
        front.pipeline().fireChannelRead(Unpooled.copiedBuffer("tail", StandardCharsets.US_ASCII)); // queued, not flushed

        front.close();

        ByteBuf tail = other.readOutbound();
        assertEquals("tail", tail.toString(StandardCharsets.US_ASCII), "what was queued is written before the close");
        tail.release();
        assertFalse(other.isOpen());
    }
}
