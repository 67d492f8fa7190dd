package io.natgw.persistence;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 10, a full disk fails closed: a child JVM runs a table on a 64 KiB tmpfs mounted in a mount namespace of its
 * own ({@code unshare --mount}, so nothing outside sees the mount), fills it, and checks that grants are refused,
 * removals and expiry take effect at once, writes resume by themselves once space returns, and a restart restores
 * what the table showed ({@link FullDiskChild}). Needs root and unshare; skipped with the reason otherwise, failed
 * under NATGW_REQUIRE_ALL=1.
 */
class FullDiskTest {

    @TempDir
    Path tmp;

    /** The default preallocation (1 MiB) never fits on the 64 KiB disk: the journal grows by its appends. */
    @Test
    void aFullDiskFailsClosedAndWritesResumeWhenSpaceReturns() throws Exception {
        runChild(JournalLeaseStore.Tuning.PREALLOCATE);
    }

    /**
     * 8 KiB of preallocation fits at first: once the disk is full the appends use it up, then the next preallocation
     * fails, the append after it finds no room and the grant is refused (nothing is acknowledged that is not durable).
     */
    @Test
    void aFullDiskWhilePreallocatingFailsClosed() throws Exception {
        runChild(8192);
    }

    private void runChild(int preallocate) throws Exception {
        requireRootAndUnshare();
        Path disk = Files.createDirectory(tmp.resolve("disk"));
        Path out = tmp.resolve("child.out");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder("unshare", "--mount", "--propagation", "private", "sh", "-c",
                "mount -t tmpfs -o size=64k,mode=0700 natgw-full-disk \"$0\" && exec \"$@\"", disk.toString(),
                java.toString(), "-Xmx128m", "-XX:+UseSerialGC", "-Dnatgw.test.level=WARN",
                "-cp", System.getProperty("java.class.path"), FullDiskChild.class.getName(), disk.toString(),
                Integer.toString(preallocate));
        pb.redirectErrorStream(true).redirectOutput(out.toFile());
        Process child = pb.start();
        try {
            assertTrue(child.waitFor(120, TimeUnit.SECONDS), "the child hung (a generous ceiling)");
        } finally {
            child.destroyForcibly();
        }
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertEquals(0, child.exitValue(), String.join("\n", lines));
        assertEquals("OK", lines.get(lines.size() - 1));
        assertTrue(lines.contains("ok: writes resume by themselves"), lines::toString);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("ok: a grant is refused, naming the journal")), lines::toString);
        assertEquals(List.of(), Files.list(disk).toList(), "the tmpfs was the child's own: nothing reached this directory");
    }

    private static void requireRootAndUnshare() throws IOException, InterruptedException {
        String why = null;
        Process id = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
        String uid = new String(id.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        id.waitFor();
        if (!uid.equals("0")) {
            why = "a tmpfs in a mount namespace needs root (uid is " + uid + ")";
        } else if (!Files.isExecutable(Path.of("/usr/bin/unshare")) && !Files.isExecutable(Path.of("/bin/unshare"))) {
            why = "unshare (util-linux) is not installed";
        }
        if (why != null) {
            if ("1".equals(System.getenv("NATGW_REQUIRE_ALL"))) {
                throw new AssertionError(why + " and NATGW_REQUIRE_ALL=1");
            }
            Assumptions.abort(why);
        }
    }
}
