package io.natgw.dataplane.trigger;

import io.natgw.conf.Protocol;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Lines as {@code conntrack -E -e NEW} prints them (conntrack-tools 1.4.7). */
class ConntrackTriggersTest {

    @Test
    void readsTheOriginalTupleOfANewFlow() throws Exception {
        assertEquals(new ConntrackTriggers.Event(Protocol.TCP, InetAddress.getByName("192.168.77.10"), 6667),
                ConntrackTriggers.parse("    [NEW] tcp      6 120 SYN_SENT src=192.168.77.10 dst=203.0.113.2 sport=45000 "
                        + "dport=6667 [UNREPLIED] src=203.0.113.2 dst=203.0.113.1 sport=6667 dport=45000 mark=1073741824"));
        assertEquals(new ConntrackTriggers.Event(Protocol.UDP, InetAddress.getByName("192.168.77.11"), 5000),
                ConntrackTriggers.parse("    [NEW] udp      17 30 src=192.168.77.11 dst=203.0.113.2 sport=40000 dport=5000 "
                        + "[UNREPLIED] src=203.0.113.2 dst=203.0.113.1 sport=5000 dport=40000 mark=1073741824"));
    }

    @Test
    void ignoresWhatIsNotANewFlowOrIsMalformed() {
        assertNull(ConntrackTriggers.parse("conntrack v1.4.7 (conntrack-tools): 2 flow events have been shown."));
        assertNull(ConntrackTriggers.parse(" [DESTROY] tcp      6 src=192.168.77.10 dst=203.0.113.2 sport=1 dport=6667"));
        assertNull(ConntrackTriggers.parse("    [NEW] tcp      6 120 SYN_SENT src=fe80::1 dst=2001:db8::1 sport=1 dport=6667"));
        assertNull(ConntrackTriggers.parse("    [NEW] tcp      6 120 SYN_SENT src=192.168.77.10 dst=203.0.113.2 sport=1 dport=70000"));
    }
}
