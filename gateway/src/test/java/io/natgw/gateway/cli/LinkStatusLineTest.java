package io.natgw.gateway.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The "WAN link" line of {@code natgw status}, from the status API's {@code link} object. */
class LinkStatusLineTest {

    private static String line(String json) throws Exception {
        return AdminCommands.link(new ObjectMapper().readTree(json));
    }

    @Test
    void anUpLinkShowsItsSpeedUptimeAndCounters() throws Exception {
        assertEquals("eth0 up, 1000 Mbit/s, up for 1h02m05s, rx 12 B (3 packets), tx 34 B (4 packets)",
                line("{\"interfaceName\":\"eth0\",\"state\":\"up\",\"problem\":null,\"bytesReceived\":12,\"bytesSent\":34,"
                        + "\"packetsReceived\":3,\"packetsSent\":4,\"speedBitsPerSecond\":1000000000,\"upSeconds\":3725}"));
    }

    @Test
    void unknownFiguresAreLeftOutAndTheProblemSaid() throws Exception {
        assertEquals("veth0 down, rx 5 B (? packets), tx ? B (? packets) (operstate down)",
                line("{\"interfaceName\":\"veth0\",\"state\":\"down\",\"problem\":\"operstate down\",\"bytesReceived\":5,"
                        + "\"bytesSent\":null,\"packetsReceived\":null,\"packetsSent\":null,\"speedBitsPerSecond\":null,\"upSeconds\":null}"));
        assertEquals("absent (no interface holds the WAN address 203.0.113.9)",
                line("{\"interfaceName\":null,\"state\":\"absent\",\"problem\":\"no interface holds the WAN address 203.0.113.9\"}"));
        assertEquals("not reported", line("null"));
    }
}
