package io.natgw.it.dataplane;

import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A LAN host listening to SSDP multicast, run in a network namespace
 * ({@code ip netns exec LAN java -cp ... SsdpListener IFACE SECONDS}): joins 239.255.255.250 on IFACE, binds port
 * 1900, prints {@code ready}, then one line per NOTIFY, {@code NOTIFY nts=... bootid=... nt=...}, and exits after
 * SECONDS without a datagram or 2000 datagrams.
 */
public final class SsdpListener {

    private SsdpListener() {
    }

    public static void main(String[] args) throws Exception {
        NetworkInterface iface = NetworkInterface.getByName(args[0]);
        InetAddress group = InetAddress.getByName("239.255.255.250");
        try (MulticastSocket s = new MulticastSocket(new InetSocketAddress(group, 1900))) {
            s.joinGroup(new InetSocketAddress(group, 0), iface);
            s.setSoTimeout(Integer.parseInt(args[1]) * 1000);
            System.out.println("ready");
            System.out.flush();
            byte[] buf = new byte[4096];
            for (int i = 0; i < 2000; i++) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    s.receive(p);
                } catch (SocketTimeoutException e) {
                    return;
                }
                String text = new String(p.getData(), 0, p.getLength(), StandardCharsets.ISO_8859_1);
                if (!text.startsWith("NOTIFY ")) {
                    continue;
                }
                System.out.println("NOTIFY nts=" + header(text, "NTS") + " bootid=" + header(text, "BOOTID.UPNP.ORG")
                        + " nt=" + header(text, "NT"));
                System.out.flush();
            }
        }
    }

    private static String header(String message, String name) {
        for (String line : message.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().toUpperCase(Locale.ROOT).equals(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return "-";
    }
}
