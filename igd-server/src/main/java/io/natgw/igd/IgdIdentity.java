package io.natgw.igd;

import io.natgw.conf.NatgwConfig;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;
import java.util.zip.CRC32;

/**
 * Who the IGD is to control points (UDA 1.1): its root UUID (upnp.udn, else generated once and kept in
 * dataDir/upnp-udn, 0600), BOOTID.UPNP.ORG (kept in dataDir/upnp-bootid and increased at every start and every
 * external address change, UDA 1.1 section 1.2.2),
 * CONFIGID.UPNP.ORG (derived from everything the descriptions say, so it changes when they change), the
 * description strings and the presentationURL (the admin web UI, when admin is enabled).
 *
 * @param rootUdn      the IGD:1 root device's UUID; every other device's UUID is derived from it
 * @param bootId       BOOTID.UPNP.ORG, 1 to 2^31-1 (increased again by an address change)
 * @param configId     CONFIGID.UPNP.ORG, 0 to 16777215 (UDA 1.1 section 1.2.2)
 * @param presentation the admin web UI, or null
 */
record IgdIdentity(UUID rootUdn, BootId bootId, int configId, String manufacturer, String modelName, String serialNumber,
                   URI presentation) {

    static final String UDN_FILE = "upnp-udn";
    static final String BOOTID_FILE = "upnp-bootid";

    /** Reads (or creates) the identity files in dataDir and increases the boot id. */
    static IgdIdentity load(NatgwConfig config) {
        Path dir = config.dataDir();
        NatgwConfig.Upnp u = config.upnp();
        try {
            Files.createDirectories(dir);
            UUID udn = u.udn().isEmpty() ? storedUdn(dir.resolve(UDN_FILE)) : UUID.fromString(u.udn());
            BootId bootId = new BootId(dir.resolve(BOOTID_FILE));
            URI presentation = presentation(config.admin());
            String serial = u.serialNumber().isEmpty() ? null : u.serialNumber();
            int configId = configId(udn, u, presentation);
            return new IgdIdentity(udn, bootId, configId, u.manufacturer(), u.modelName(), serial, presentation);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("UPnP cannot keep its identity in " + dir.toAbsolutePath() + ": " + e, e);
        }
    }

    /** The UUID of one device: the root of IGD:1 is the base itself; the others are derived (name-based, stable). */
    UUID udn(int version, String role) {
        if (version == 1 && role.equals("InternetGatewayDevice")) {
            return rootUdn;
        }
        return UUID.nameUUIDFromBytes((rootUdn + "/" + role + ":" + version).getBytes(StandardCharsets.UTF_8));
    }

    /** BOOTID.UPNP.ORG: the value in force, and its increase (written before it is announced). */
    static final class BootId {
        private final Path file;
        private volatile long value;

        BootId(Path file) throws IOException {
            this.file = file;
            this.value = nextBootId(file);
        }

        long value() {
            return value;
        }

        /** The next boot id, kept in the file first; throws when it cannot be kept (the old one stays). */
        synchronized long next() throws IOException {
            value = nextBootId(file);
            return value;
        }

        @Override
        public String toString() {
            return Long.toString(value);
        }
    }

    private static UUID storedUdn(Path file) throws IOException {
        if (Files.exists(file)) {
            return UUID.fromString(Files.readString(file, StandardCharsets.US_ASCII).trim());
        }
        UUID fresh = UUID.randomUUID();
        writePrivate(file, fresh.toString());
        return fresh;
    }

    /** The stored boot id plus one (1 at first start), written before it is announced; wraps within 31 bits. */
    private static long nextBootId(Path file) throws IOException {
        long previous = 0;
        if (Files.exists(file)) {
            try {
                previous = Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).trim());
            } catch (NumberFormatException e) {
                previous = 0; // a damaged counter restarts; control points only compare it with the last one seen
            }
        }
        long next = previous >= Integer.MAX_VALUE || previous < 0 ? 1 : previous + 1;
        writePrivate(file, Long.toString(next));
        return next;
    }

    /** Written to a 0600 temporary file and moved into place, so a crash never leaves half a file. */
    private static void writePrivate(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException | FileAlreadyExistsException e) {
            Files.deleteIfExists(tmp);
            Files.createFile(tmp);
        }
        Files.writeString(tmp, content + "\n", StandardCharsets.US_ASCII);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The admin web UI's address, when admin is enabled: its first address and port. */
    private static URI presentation(NatgwConfig.Admin admin) {
        if (!admin.enabled() || admin.addresses().isEmpty()) {
            return null;
        }
        InetAddress a = admin.addresses().get(0);
        String host = a instanceof java.net.Inet6Address ? "[" + a.getHostAddress() + "]" : a.getHostAddress();
        return URI.create((admin.plainHttp() ? "http" : "https") + "://" + host + ":" + admin.port() + "/");
    }

    /** A CRC of every value the descriptions carry, in UDA 1.1's range 0-16777215. */
    private static int configId(UUID udn, NatgwConfig.Upnp u, URI presentation) {
        CRC32 crc = new CRC32();
        String described = String.join("\n", udn.toString(), u.friendlyName(), u.manufacturer(), u.modelName(),
                u.serialNumber(), String.valueOf(presentation), IgdDevices.DESCRIPTION_VERSION);
        crc.update(described.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() & 0xFFFFFF);
    }
}
