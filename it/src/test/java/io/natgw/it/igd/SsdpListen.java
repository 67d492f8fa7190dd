package io.natgw.it.igd;

import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A LAN host listening to SSDP, run in a test's network namespace: joins {@code group} on {@code interface} at port
 * 1900, prints "ready", then prints every datagram received (source, then its text with line breaks shown as |),
 * at most {@code count} of them and for at most {@code seconds}.
 * <pre>java -cp test-classes io.natgw.it.igd.SsdpListen ff02::c lan0 30 200</pre>
 */
public final class SsdpListen {

    private SsdpListen() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress group = InetAddress.getByName(args[0]);
        NetworkInterface nif = NetworkInterface.getByName(args[1]);
        long deadline = System.nanoTime() + Long.parseLong(args[2]) * 1_000_000_000L;
        int count = Integer.parseInt(args[3]);
        try (MulticastSocket s = new MulticastSocket(1900)) {
            s.joinGroup(new InetSocketAddress(group, 1900), nif);
            s.setSoTimeout(500);
            System.out.println("ready");
            byte[] buf = new byte[2048];
            for (int n = 0; n < count && System.nanoTime() < deadline; ) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    s.receive(p);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                n++;
                System.out.println(p.getAddress().getHostAddress() + " "
                        + new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII).replace("\r\n", "|"));
            }
        }
    }
}
