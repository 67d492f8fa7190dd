package io.natgw.gateway.admin;

import io.natgw.core.Change;
import io.natgw.core.MappingTable;
import io.natgw.core.TableListener;
import io.natgw.core.TrafficStats;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultHttpContent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The server-sent event stream of table changes ({@code GET /api/v1/events}). Each committed change is one
 * {@code event: change} with the row as the lease table shows it. A subscriber that stops reading (its
 * channel turns unwritable) is dropped, so a slow browser never makes the gateway buffer without bound.
 */
final class TableEvents implements TableListener {

    private static final Logger LOG = LoggerFactory.getLogger(TableEvents.class);
    static final int MAX_SUBSCRIBERS = 64;

    private final Set<Channel> subscribers = ConcurrentHashMap.newKeySet();
    private final TrafficStats traffic;
    private volatile MappingTable table;

    TableEvents(TrafficStats traffic) {
        this.traffic = traffic;
    }

    void attach(MappingTable t) {
        this.table = t;
    }

    /** Adds a channel whose response head has been written; false when the stream is full. */
    boolean subscribe(Channel ch) {
        if (subscribers.size() >= MAX_SUBSCRIBERS) {
            return false;
        }
        subscribers.add(ch);
        ch.closeFuture().addListener(f -> subscribers.remove(ch));
        send(ch, ": natgw change stream\nretry: 2000\n\n");
        return true;
    }

    int subscribers() {
        return subscribers.size();
    }

    @Override
    public void committed(List<Change> changes) {
        if (subscribers.isEmpty() || table == null) {
            return;
        }
        InetAddress ext = table.externalAddress();
        Instant now = table.clock().instant();
        StringBuilder sb = new StringBuilder();
        for (Change c : changes) {
            sb.append("event: change\ndata: ").append(Json.writeString(MappingJson.ChangeJson.of(c, ext, now, traffic))).append("\n\n");
        }
        broadcast(sb.toString());
    }

    @Override
    public void externalAddressChanged(InetAddress previous, InetAddress current) {
        broadcast("event: external-address\ndata: " + Json.writeString(java.util.Map.of("externalAddress", current.getHostAddress())) + "\n\n");
    }

    /** A comment line keeps idle connections (and proxies) from timing out. */
    void heartbeat() {
        broadcast(": keep-alive\n\n");
    }

    private void broadcast(String text) {
        for (Channel ch : subscribers) {
            if (!ch.isWritable()) {
                LOG.debug("dropping event subscriber {}: it does not read", ch.remoteAddress());
                subscribers.remove(ch);
                ch.close();
                continue;
            }
            send(ch, text);
        }
    }

    private static void send(Channel ch, String text) {
        ch.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)))
                .addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    }

    void closeAll() {
        for (Channel ch : subscribers) {
            ch.close();
        }
        subscribers.clear();
    }
}
