package io.natgw.dataplane;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import io.natgw.core.Endpoint;

/**
 * A TCP "internal host" on loopback port 0: echoes what it reads, prefixed by its name once per connection, and
 * half-closes after the client's FIN. Records the peers it saw.
 */
final class EchoServer implements AutoCloseable {

    final String name;
    final ServerSocket socket;
    final List<InetSocketAddress> peers = new CopyOnWriteArrayList<>();
    final AtomicInteger finished = new AtomicInteger();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    EchoServer(String name, InetAddress address) throws IOException {
        this(name, address, 0);
    }

    EchoServer(String name, InetAddress address, int port) throws IOException {
        this.name = name;
        this.socket = new ServerSocket(port, 50, address);
        pool.execute(this::acceptLoop);
    }

    Endpoint endpoint() {
        return new Endpoint(socket.getInetAddress(), socket.getLocalPort());
    }

    private void acceptLoop() {
        while (!socket.isClosed()) {
            try {
                Socket s = socket.accept();
                peers.add((InetSocketAddress) s.getRemoteSocketAddress());
                pool.execute(() -> echo(s));
            } catch (IOException e) {
                if (socket.isClosed()) {
                    return;
                }
                // e.g. EMFILE while a test exhausts the JVM's descriptors: the connection waits in the backlog
            }
        }
    }

    private void echo(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            out.write((name + ":").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
            }
            out.write(":eof".getBytes(java.nio.charset.StandardCharsets.US_ASCII)); // written after the client's FIN
            s.shutdownOutput();
            finished.incrementAndGet();
        } catch (IOException e) {
            // the client went away
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
        pool.shutdownNow();
    }
}
