package io.natgw.gateway.logging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Whether standard output is a systemd journal stream. systemd sets {@code JOURNAL_STREAM=DEVICE:INODE} for a service
 * whose output goes to the journal; sd-daemon(3) says to trust it only when those numbers are the ones of our own
 * output (a program started from such a service with its output redirected elsewhere inherits the variable).
 */
public final class JournalStream {

    /** Our standard output, as the kernel shows it: stat() of this link is fstat(1). */
    static final Path STDOUT = Path.of("/proc/self/fd/1");

    private JournalStream() {
    }

    /** True when this process's standard output is the stream named by its {@code JOURNAL_STREAM}. */
    public static boolean isStdout() {
        return matches(System.getenv("JOURNAL_STREAM"), STDOUT);
    }

    /**
     * True when {@code journalStream} ({@code DEVICE:INODE}, decimal) names {@code output}. An unset, empty or malformed
     * value is false; when {@code output} cannot be examined (no /proc), a well-formed value is trusted.
     */
    static boolean matches(String journalStream, Path output) {
        if (journalStream == null) {
            return false;
        }
        String[] parts = journalStream.trim().split(":", -1);
        if (parts.length != 2) {
            return false;
        }
        long device;
        long inode;
        try {
            device = Long.parseUnsignedLong(parts[0]);
            inode = Long.parseUnsignedLong(parts[1]);
        } catch (NumberFormatException e) {
            return false;
        }
        try {
            Map<String, Object> attrs = Files.readAttributes(output, "unix:dev,ino");
            return ((Number) attrs.get("dev")).longValue() == device && ((Number) attrs.get("ino")).longValue() == inode;
        } catch (IOException | UnsupportedOperationException e) {
            return true;
        }
    }
}
