package io.natgw.testsupport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SkipSummaryTest {

    @Test
    void noSkipsSaysSo(@TempDir Path dir) throws Exception {
        assertEquals("natgw: no test was skipped", SkipSummary.summary(dir.resolve("absent")));
        assertEquals("natgw: no test was skipped", SkipSummary.summary(dir));
    }

    @Test
    void oneLineCountsEachClassAndReasonOverAllFiles(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve("skips-1-1.tsv"), List.of(
                "a.UpnpcTest\tone()\t'upnpc' is not installed",
                "a.UpnpcTest\ttwo()\t'upnpc' is not installed"));
        Files.write(dir.resolve("skips-2-2.tsv"), List.of("b.WebUiTest\tclick()\tchromium is not installed"));
        Files.writeString(dir.resolve("other.txt"), "not a skip file");
        assertEquals("natgw: 3 tests skipped: a.UpnpcTest (2: 'upnpc' is not installed); b.WebUiTest (1: chromium is not installed)",
                SkipSummary.summary(dir));
    }
}
