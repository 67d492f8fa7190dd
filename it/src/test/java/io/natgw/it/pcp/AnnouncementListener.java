package io.natgw.it.pcp;

import java.net.DatagramPacket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketTimeoutException;
import java.util.HexFormat;

/**
 * A LAN host listening for a gateway's announcements, run in a network namespace
 * ({@code ip netns exec LAN java -cp ... AnnouncementListener IFACE COUNT SECONDS [GROUP]}): joins GROUP (224.0.0.1
 * unless given, e.g. ff02::1) on IFACE, binds GROUP:5350 (so only datagrams sent to that group arrive), prints
 * {@code ready}, then one line per datagram, {@code FROM address:port HEX}, and exits after COUNT datagrams or SECONDS
 * without one (exit 1).
 */
public final class AnnouncementListener {

    private AnnouncementListener() {
    }

    public static void main(String[] args) throws Exception {
        NetworkInterface iface = NetworkInterface.getByName(args[0]);
        int count = Integer.parseInt(args[1]);
        int seconds = Integer.parseInt(args[2]);
        InetAddress named = InetAddress.getByName(args.length > 3 ? args[3] : "224.0.0.1");
        // a link-scoped IPv6 group is bound with the interface's scope (ff02::1%IFACE), as the kernel needs
        InetAddress group = named instanceof Inet6Address && named.isMCLinkLocal()
                ? Inet6Address.getByAddress(null, named.getAddress(), iface) : named;
        try (MulticastSocket s = new MulticastSocket(new InetSocketAddress(group, 5350))) {
            s.joinGroup(new InetSocketAddress(group, 0), iface);
            s.setSoTimeout(seconds * 1000);
            System.out.println("ready");
            System.out.flush();
            byte[] buf = new byte[1100];
            for (int i = 0; i < count; i++) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    s.receive(p);
                } catch (SocketTimeoutException e) {
                    System.out.println("TIMEOUT after " + i + " datagrams");
                    System.exit(1);
                }
                System.out.println("FROM " + p.getAddress().getHostAddress().replaceAll("%.*", "") + ":" + p.getPort() + " "
                        + HexFormat.of().formatHex(p.getData(), 0, p.getLength()));
                System.out.flush();
            }
        }
    }
}
