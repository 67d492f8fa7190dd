package io.natgw.gateway.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/** The bearer token every admin request carries: 256 random bits, created on first start (file mode 0600). */
public final class AdminToken {

    private final byte[] expected;

    private AdminToken(String token) {
        this.expected = token.getBytes(StandardCharsets.US_ASCII);
    }

    /** Reads the token file, or creates it with a fresh random token when it is missing or empty. */
    public static AdminToken loadOrCreate(Path file, SecureRandom random) throws IOException {
        if (Files.isRegularFile(file)) {
            AdminFiles.requireOwnerOnly(file, "admin token");
            String existing = Files.readString(file, StandardCharsets.US_ASCII).trim();
            if (!existing.isEmpty()) {
                return new AdminToken(existing);
            }
        }
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        AdminFiles.writeAtomically(file, token + "\n", true);
        return new AdminToken(token);
    }

    /** Reads an existing token (the CLI); fails with a message naming the file when there is none. */
    public static String read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("no admin token at " + file + ": start the daemon once (natgw run) to create it");
        }
        return Files.readString(file, StandardCharsets.US_ASCII).trim();
    }

    /** Constant-time comparison, so the answer time does not leak how much of a guess was right. */
    public boolean matches(String presented) {
        return presented != null && MessageDigest.isEqual(expected, presented.getBytes(StandardCharsets.US_ASCII));
    }

    public String value() {
        return new String(expected, StandardCharsets.US_ASCII);
    }
}
