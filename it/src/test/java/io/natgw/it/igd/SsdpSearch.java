package io.natgw.it.igd;

import java.net.DatagramPacket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * An SSDP search from a test's network namespace: sends one M-SEARCH for {@code st} to {@code group} port 1900 out of
 * {@code interface}, then prints every answer received within {@code seconds} (source, then the text with line
 * breaks shown as |), then "done N".
 * <pre>java -cp test-classes io.natgw.it.igd.SsdpSearch ff02::c lan0 3 upnp:rootdevice</pre>
 */
public final class SsdpSearch {

    private SsdpSearch() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress group = InetAddress.getByName(args[0]);
        NetworkInterface nif = NetworkInterface.getByName(args[1]);
        long deadline = System.nanoTime() + Long.parseLong(args[2]) * 1_000_000_000L;
        String host = group instanceof Inet6Address ? "[" + args[0] + "]" : args[0];
        byte[] search = ("M-SEARCH * HTTP/1.1\r\nHOST: " + host + ":1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: " + args[3]
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        int answers = 0;
        try (MulticastSocket s = new MulticastSocket(0)) {
            s.setNetworkInterface(nif);
            s.setSoTimeout(200);
            s.send(new DatagramPacket(search, search.length, new InetSocketAddress(group, 1900)));
            byte[] buf = new byte[2048];
            while (System.nanoTime() < deadline) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    s.receive(p);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                answers++;
                System.out.println(p.getAddress().getHostAddress() + " "
                        + new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII).replace("\r\n", "|"));
            }
        }
        System.out.println("done " + answers);
    }
}
