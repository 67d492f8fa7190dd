package io.natgw.igd;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Counts the listener's open connections, in total and per client address, so slow or idle clients cannot take
 * every descriptor. A new connection over its address's cap is closed at once. When the total is reached, the
 * oldest connection that has not sent a request head yet is closed to make room (a slow client never holds a
 * slot a working one needs); if every connection is busy with a request, the new one is closed. First in the
 * pipeline; the listener's handler marks a connection busy once its first request head arrives ({@link #markBusy}).
 * Used by the UPnP HTTP server ({@link UpnpHttpHandler}) and the admin listener.
 */
@ChannelHandler.Sharable
public final class ConnectionCap extends ChannelDuplexHandler {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionCap.class);
    private static final AttributeKey<InetAddress> COUNTED = AttributeKey.valueOf("natgw.http.counted");
    private static final AttributeKey<Boolean> BUSY = AttributeKey.valueOf("natgw.http.busy");

    private final String what;
    private final int maxTotal;
    private final int maxPerClient;
    private final Map<InetAddress, Integer> perClient = new HashMap<>();
    private final Set<Channel> counted = new LinkedHashSet<>();
    private int total;

    /** 256 connections, 16 per client address (a UPnP client opens one per request, one after another). */
    static final int MAX_TOTAL = 256;
    static final int MAX_PER_CLIENT = 16;

    /** @param what the listener's name in log lines, e.g. "UPnP HTTP" or "admin" */
    public ConnectionCap(String what, int maxTotal, int maxPerClient) {
        this.what = what;
        this.maxTotal = maxTotal;
        this.maxPerClient = maxPerClient;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        InetAddress client = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
        if (!admit(ctx.channel(), client)) {
            LOG.debug("closed {} connection from {}: over the connection cap ({} total, {} per client)",
                    what, client.getHostAddress(), maxTotal, maxPerClient);
            ctx.close();
            return;
        }
        super.channelActive(ctx);
    }

    /** The connection sent a request head: it is no longer a candidate for eviction. */
    public static void markBusy(Channel channel) {
        channel.attr(BUSY).set(Boolean.TRUE);
    }

    /**
     * The server closes the connection (after an answer with Connection: close, a refusal, a deadline): the slot is
     * given back before the socket closes. Netty runs the channel's inactive event in a later task, after the FIN has
     * left; a client that connects again as soon as it sees the FIN would otherwise find its old slot still counted.
     */
    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
        release(ctx.channel());
        super.close(ctx, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        release(ctx.channel());
        super.channelInactive(ctx);
    }

    private synchronized boolean admit(Channel channel, InetAddress client) {
        int mine = perClient.getOrDefault(client, 0);
        if (mine >= maxPerClient) {
            return false;
        }
        if (total >= maxTotal) {
            Channel idle = null;
            for (Channel c : counted) {
                if (c.attr(BUSY).get() == null) {
                    idle = c;
                    break;
                }
            }
            if (idle == null) {
                return false;
            }
            LOG.debug("closed {} connection from {} to make room: no request head yet, {} connections open",
                    what, idle.remoteAddress(), total);
            release(idle);
            idle.close();
        }
        total++;
        perClient.put(client, mine + 1);
        counted.add(channel);
        channel.attr(COUNTED).set(client);
        return true;
    }

    /** Uncounts a connection once (evicted or closed). */
    private synchronized void release(Channel channel) {
        InetAddress client = channel.attr(COUNTED).getAndSet(null);
        if (client == null) {
            return;
        }
        counted.remove(channel);
        total--;
        perClient.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1);
    }

    public synchronized int open() {
        return total;
    }
}
