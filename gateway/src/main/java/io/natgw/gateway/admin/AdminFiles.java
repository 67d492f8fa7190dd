package io.natgw.gateway.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * Where the admin surfaces keep their files in the data directory, shared by the daemon (writes them)
 * and the CLI (reads them). Secrets are written owner-only (0600) before any byte lands in them.
 */
public record AdminFiles(Path dataDir) {

    static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    public Path token() {
        return dataDir.resolve("admin.token");
    }

    public Path tlsKey() {
        return dataDir.resolve("admin-tls.key");
    }

    public Path tlsCertificate() {
        return dataDir.resolve("admin-tls.crt");
    }

    public Path triggers() {
        return dataDir.resolve("triggers.json");
    }

    /**
     * Writes {@code text} to {@code target} atomically: a temp file in the same directory (mode 0600 when
     * {@code secret}), forced to disk, then renamed over the target. A crash leaves the old or the new file.
     */
    static void writeAtomically(Path target, String text, boolean secret) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(target.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        if (secret && posix()) {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } else {
            Files.createFile(tmp);
        }
        try (var ch = java.nio.channels.FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        if (secret && posix()) {
            Files.setPosixFilePermissions(target, OWNER_ONLY);
        }
    }

    /**
     * Refuses an existing secret (the admin token, the TLS key) that group or others may read or write: it may
     * have been read already, so tightening the mode would not make it secret again. The message says how to fix
     * it (chmod 600, or delete the file and a new one is made at start).
     */
    public static void requireOwnerOnly(Path secret, String what) throws IOException {
        if (!posix() || !Files.exists(secret)) {
            return;
        }
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(secret);
        Set<PosixFilePermission> loose = EnumSet.noneOf(PosixFilePermission.class);
        loose.addAll(mode);
        loose.removeAll(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_EXECUTE));
        if (!loose.isEmpty()) {
            throw new IOException(what + " " + secret.toAbsolutePath() + " is accessible to group or others (mode "
                    + PosixFilePermissions.toString(mode) + "): chmod 600 it, or delete it to have a new one made");
        }
    }

    static boolean posix() {
        return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    }
}
