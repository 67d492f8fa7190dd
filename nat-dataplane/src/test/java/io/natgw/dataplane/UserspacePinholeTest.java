package io.natgw.dataplane;

import io.natgw.conf.Protocol;
import io.natgw.core.Change;
import io.natgw.core.Endpoint;
import io.natgw.core.Forwarder;
import io.natgw.core.Kind;
import io.natgw.core.Mapping;
import io.natgw.core.Origin;
import io.natgw.core.Outcome;
import io.natgw.core.Owner;
import io.natgw.core.RemoteFilter;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Userspace mode does not forward IPv6 pinholes (the relays bind the IPv4 WAN address and translate): it says so to
 * the table, which refuses every pinhole request with no side effect, and a pinhole that reached the relays anyway
 * would be refused there rather than relayed.
 */
class UserspacePinholeTest {

    @Test
    void theRelaysSayTheyDoNotForwardPinholesSoTheTableRefusesThemAndBindsNothing() throws Exception {
        try (Fixture f = new Fixture("mode: userspace\n")) {
            assertFalse(f.dataplane.forwardsPinholes());
            Outcome o = f.request(Protocol.TCP, 8080, new Endpoint(Fixture.addr("fd00:77::10"), 8080), RemoteFilter.ANY);
            assertTrue(o instanceof Outcome.Refused r && r.reason() == Outcome.Reason.PINHOLES_DISABLED, o.toString());
            assertEquals(0, f.table.view().size(), "no side effect");
        }
    }

    @Test
    void aPinholeThatReachedTheRelaysIsRefusedNotRelayed() throws Exception {
        try (Fixture f = new Fixture("mode: userspace\n")) {
            Instant now = Instant.parse("2026-12-06T00:00:00Z");
            Mapping pinhole = new Mapping(Protocol.TCP, 8080, RemoteFilter.ANY, new Endpoint(Fixture.addr("fd00:77::10"), 8080),
                    Owner.of(Fixture.addr("fd00:77::10"), Origin.PCP), "", Kind.DYNAMIC, "", now, now.plusSeconds(60), true, 1);
            Forwarder.ForwardingException e = assertThrows(Forwarder.ForwardingException.class,
                    () -> f.dataplane.prepare(Change.added(pinhole, Change.Cause.REQUEST)));
            assertTrue(e.getMessage().contains("linux-gateway mode with kernel forwarding"), e.getMessage());
        }
    }
}
