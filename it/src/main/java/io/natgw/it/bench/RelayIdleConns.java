package io.natgw.it.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens N idle TCP connections through a mapping and holds them until stdin closes or a line is read:
 * {@code RelayIdleConns HOST PORT N}. Prints {@code open N} once all are up (each has read the server's first byte).
 */
public final class RelayIdleConns {

    private RelayIdleConns() {
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int n = Integer.parseInt(args[2]);
        List<SocketChannel> open = new ArrayList<>(n);
        int failed = 0;
        for (int i = 0; i < n; i++) {
            try {
                SocketChannel ch = SocketChannel.open(new InetSocketAddress(host, port));
                open.add(ch);
            } catch (IOException e) {
                failed++;
            }
        }
        System.out.println("open " + open.size() + " failed " + failed);
        System.out.flush();
        System.in.read();
        for (SocketChannel ch : open) {
            ch.close();
        }
    }
}
