package io.natgw.conf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class PortRangesTest {

    private static String rejection(String text) {
        return assertThrows(IllegalArgumentException.class, () -> PortRanges.parse(text)).getMessage();
    }

    @Test
    void parsesRangesAndSinglePorts() {
        assertEquals(List.of(new PortRange(123, 456), new PortRange(777, 789)), PortRanges.parse("123-456,777-789").ranges());
        assertEquals(List.of(new PortRange(113, 113)), PortRanges.parse("113").ranges());
        assertEquals(List.of(new PortRange(0, 0), new PortRange(65535, 65535)), PortRanges.parse("0,65535").ranges());
        assertEquals(List.of(new PortRange(0, 65535)), PortRanges.parse(" 0 - 65535 ").ranges());
        assertEquals(List.of(new PortRange(5, 5)), PortRanges.parse("5-5").ranges());
        assertEquals("123-456,777-789,1000", PortRanges.parse("123-456, 777-789 ,1000").toString());
    }

    @Test
    void rejectsBadSyntaxNamingThePartAndWhatIsAccepted() {
        String accepted = "(accepted: ports 0-65535 and ranges, comma-separated, e.g. '123-456,777-789')";
        assertEquals("'123-456-789' is not a port or a range " + accepted, rejection("123-456-789"));
        assertEquals("'1-2-3' in '80,1-2-3' is not a port or a range " + accepted, rejection("80,1-2-3"));
        assertEquals("range '5-3' ends before it starts (accepted: first-last with first <= last, e.g. 3-5)", rejection("5-3"));
        assertEquals("port 70000 is out of range (accepted: 0-65535)", rejection("70000"));
        assertEquals("port 65536 in '1-65536' is out of range (accepted: 0-65535)", rejection("1-65536"));
        assertEquals("empty port list " + accepted, rejection(""));
        assertEquals("empty port list " + accepted, rejection("  "));
        assertEquals("'' in '1,,2' is not a port or a range " + accepted, rejection("1,,2"));
        assertEquals("'' in '-5' is not a port number (accepted: 0-65535)", rejection("-5"));
        assertEquals("'' in '5-' is not a port number (accepted: 0-65535)", rejection("5-"));
        assertEquals("'http' is not a port number (accepted: 0-65535)", rejection("http"));
        assertEquals("'+80' is not a port number (accepted: 0-65535)", rejection("+80"));
        assertEquals("'١٢٣' is not a port number (accepted: 0-65535)", rejection("١٢٣")); // Arabic-Indic digits
        assertEquals("'000080' is not a port number (accepted: 0-65535)", rejection("000080"));
    }

    @Test
    void containsAndOverlaps() {
        PortRanges irc = PortRanges.parse("6660-7000,7070");
        assertTrue(irc.contains(6660));
        assertTrue(irc.contains(7000));
        assertTrue(irc.contains(7070));
        assertFalse(irc.contains(6659));
        assertFalse(irc.contains(7001));
        assertTrue(irc.overlaps(PortRanges.parse("7000-7001")));
        assertTrue(irc.overlaps(PortRanges.parse("1,7070")));
        assertFalse(irc.overlaps(PortRanges.parse("7001-7069,7071-8000")));
        assertTrue(PortRanges.ALL.contains(0) && PortRanges.ALL.contains(65535));
    }
}
