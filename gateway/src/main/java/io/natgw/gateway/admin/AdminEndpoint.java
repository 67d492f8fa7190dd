package io.natgw.gateway.admin;

import io.natgw.conf.NatgwConfig;

import java.net.Inet6Address;
import java.net.InetAddress;

/** Where the CLI and the printed UI address reach the admin listener: the first admin address (wildcard → loopback). */
public final class AdminEndpoint {

    private AdminEndpoint() {
    }

    public static String baseUrl(NatgwConfig config) {
        InetAddress a = config.admin().addresses().isEmpty() ? InetAddress.getLoopbackAddress() : config.admin().addresses().get(0);
        if (a.isAnyLocalAddress()) {
            a = InetAddress.getLoopbackAddress();
        }
        return url(!config.admin().plainHttp(), a, config.admin().port());
    }

    static String url(boolean https, InetAddress a, int port) {
        String host = a instanceof Inet6Address ? "[" + a.getHostAddress() + "]" : a.getHostAddress();
        return (https ? "https" : "http") + "://" + host + ":" + port + "/";
    }
}
