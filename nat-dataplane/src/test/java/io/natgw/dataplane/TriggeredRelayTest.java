package io.natgw.dataplane;

import io.natgw.conf.Protocol;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;

import static io.natgw.dataplane.Fixture.LAN_HOST;
import static io.natgw.dataplane.Fixture.WAN;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Triggered mappings through the real dataplane: opened ports relay, and their traffic renews the lease. */
class TriggeredRelayTest {

    @Test
    void trafficOnAnOpenedPortRenewsItsLease() throws Exception {
        int port = freeOnBoth();
        String rule = "triggers:\n  - { name: Game, triggerProtocol: tcp, triggerPorts: 7777, incomingProtocol: tcp,"
                + " incomingPorts: " + port + ", timeout: 30 }\n";
        try (Fixture f = new Fixture("relay: copy", rule); EchoServer game = new EchoServer("game", LAN_HOST, port)) {
            Instant opened = f.clock.instant();
            assertEquals(TriggerEngine.Result.OPENED, f.dataplane.triggers().outbound(Protocol.TCP, LAN_HOST, 7777).get());
            MappingKey key = MappingKey.of(Protocol.TCP, port);
            Mapping m = f.table.view().find(key).orElseThrow();
            assertEquals(Kind.TRIGGERED, m.kind());
            assertEquals(opened.plusSeconds(30), m.expiresAt());

            f.clock.advance(Duration.ofSeconds(10));
            assertEquals("game:hi:eof", TcpRelayTest.exchange(WAN, port, null, "hi"));

            await().atMost(Duration.ofSeconds(30)).until(() ->
                    f.table.view().find(key).orElseThrow().expiresAt().equals(opened.plusSeconds(40)));
            assertEquals(1, f.dataplane.triggers().stats().get("Game").refreshes());
        }
    }

    /** A port below the ephemeral range that is free on the LAN and the WAN loopback address (a rule names it). */
    static int freeOnBoth() {
        java.util.Random random = new java.util.Random();
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = 20000 + random.nextInt(12000);
            try (ServerSocket a = new ServerSocket(port, 1, LAN_HOST); ServerSocket b = new ServerSocket(port, 1, WAN)) {
                return port;
            } catch (java.io.IOException taken) {
                // try another
            }
        }
        throw new IllegalStateException("no free port in 20000-31999");
    }
}
