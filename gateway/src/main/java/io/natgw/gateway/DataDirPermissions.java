package io.natgw.gateway;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The data directory holds the journal, the admin token and the TLS key. If others may write it, anyone on
 * the host could have replaced any of them (or will), so start is refused rather than the mode fixed.
 */
final class DataDirPermissions {

    private DataDirPermissions() {
    }

    static void check(Path dataDir) throws IOException {
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dataDir);
        if (mode.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException("data directory " + dataDir + " is writable by others (mode "
                    + PosixFilePermissions.toString(mode) + "): chmod o-w it (natgw keeps its journal and admin secrets there)");
        }
    }
}
