package io.natgw.it.bench;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * The LAN-side server of the relay benchmark: {@code RelayGreeter ADDRESS PORT greet|hold}. {@code greet} writes one
 * byte to each connection and closes it (new connections per second); {@code hold} writes one byte and keeps the
 * connection open (idle connections). One thread, non-blocking, so it is never the bottleneck of the figures.
 */
public final class RelayGreeter {

    private RelayGreeter() {
    }

    public static void main(String[] args) throws Exception {
        boolean hold = args[2].equals("hold");
        List<SocketChannel> held = new ArrayList<>();
        try (Selector selector = Selector.open(); ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(args[0], Integer.parseInt(args[1])), 4096);
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
            System.out.println("greeter ready");
            System.out.flush();
            ByteBuffer one = ByteBuffer.wrap(new byte[] {'x'});
            while (true) {
                selector.select();
                selector.selectedKeys().clear();
                for (SocketChannel ch; (ch = server.accept()) != null; ) {
                    ch.write(one.duplicate());
                    if (hold) {
                        held.add(ch);
                    } else {
                        ch.close();
                    }
                }
            }
        }
    }
}
