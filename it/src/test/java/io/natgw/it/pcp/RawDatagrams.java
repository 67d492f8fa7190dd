package io.natgw.it.pcp;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.HexFormat;

/**
 * natgw's own minimal raw-socket PCP client, run on a namespace host
 * ({@code ip netns exec LAN java -cp ... RawDatagrams BIND GATEWAY PORT SECONDS HEX...}): binds BIND (port 0), sends
 * each HEX datagram to GATEWAY:PORT in order, then prints one line per datagram received, {@code REPLY address:port HEX},
 * until SECONDS pass without one ({@code QUIET}). The test builds the requests and decodes the replies with natgw's
 * codec; this only carries bytes, so what it sends is exactly what the test wrote.
 */
public final class RawDatagrams {

    private RawDatagrams() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress bind = InetAddress.getByName(args[0]);
        InetSocketAddress gateway = new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2]));
        int seconds = Integer.parseInt(args[3]);
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(bind, 0))) {
            for (int i = 4; i < args.length; i++) {
                byte[] d = HexFormat.of().parseHex(args[i]);
                s.send(new DatagramPacket(d, d.length, gateway));
            }
            s.setSoTimeout(seconds * 1000);
            byte[] buf = new byte[2048];
            while (true) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    s.receive(p);
                } catch (SocketTimeoutException e) {
                    System.out.println("QUIET");
                    return;
                }
                InetSocketAddress from = (InetSocketAddress) p.getSocketAddress();
                System.out.println("REPLY " + from.getAddress().getHostAddress().replaceAll("%.*", "") + ":" + from.getPort()
                        + " " + HexFormat.of().formatHex(p.getData(), 0, p.getLength()));
                System.out.flush();
            }
        }
    }
}
