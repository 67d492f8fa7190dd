package io.natgw.igd;

import io.natgw.conf.Protocol;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * GetOutboundPinholeTimeout's answer: how long the kernel's connection tracking keeps an outbound flow open after
 * its last packet, which is how long the gateway lets replies in (an "outbound pinhole"). TCP: an established
 * connection's timeout; UDP: a flow that has seen replies (a "stream").
 */
final class ConntrackTimeouts implements WanIpv6FirewallControl.OutboundTimeouts {

    static final Path SYSCTL = Path.of("/proc/sys/net/netfilter");

    private final Path dir;

    ConntrackTimeouts(Path dir) {
        this.dir = dir;
    }

    @Override
    public long seconds(Protocol protocol) {
        Path file = dir.resolve(protocol == Protocol.TCP ? "nf_conntrack_tcp_timeout_established"
                : "nf_conntrack_udp_timeout_stream");
        // Files.readString trusts the size /proc reports and returns the first byte only ("4" for 432000)
        try (InputStream in = Files.newInputStream(file)) {
            String text = new String(in.readNBytes(32), StandardCharsets.US_ASCII).trim();
            return text.matches("\\d{1,10}") ? Long.parseLong(text) : -1;
        } catch (IOException e) {
            return -1; // no connection tracking here (module not loaded): unknown
        }
    }
}
