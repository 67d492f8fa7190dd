package io.natgw.gateway.admin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLHandshakeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The self-signed identity and the token: created once, owner-only, reused; plain HTTP only when configured. */
class AdminIdentityTest {

    @TempDir
    Path dataDir;

    @Test
    void identityAndTokenAreCreatedOwnerOnlyAndReusedOnRestart() throws Exception {
        AdminFiles files = new AdminFiles(dataDir);
        byte[] cert;
        String token;
        try (AdminFixture f = new AdminFixture(dataDir, false)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(files.tlsKey())));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(files.token())));
            assertTrue(f.token.length() >= 43, "256 random bits");
            cert = TlsIdentity.readCertificate(files.tlsCertificate()).getEncoded();
            token = f.token;
        }
        try (AdminFixture again = new AdminFixture(dataDir, false)) {
            assertArrayEquals(cert, TlsIdentity.readCertificate(files.tlsCertificate()).getEncoded(), "the same certificate");
            assertEquals(token, again.token);
            assertEquals(200, again.call("GET", "/api/v1/status", null).status(), "the old certificate is trusted again");
        }
    }

    @Test
    void aClientThatDoesNotTrustTheCertificateIsRefused() throws Exception {
        try (AdminFixture f = new AdminFixture(dataDir, false)) {
            HttpClient stranger = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
            HttpRequest r = HttpRequest.newBuilder(URI.create(f.base + "/api/v1/status")).header("Authorization", "Bearer " + f.token).build();
            assertThrows(SSLHandshakeException.class, () -> stranger.send(r, HttpResponse.BodyHandlers.ofString()));
        }
    }

    /**
     * The listener's TLS comes from the JDK's own providers ({@link TlsIdentity#keyManagers}): it presents the
     * identity's certificate, negotiates TLS 1.3 with a modern client and refuses TLS 1.1.
     */
    @Test
    void theListenerPresentsTheIdentityOverModernTlsOnly() throws Exception {
        try (AdminFixture f = new AdminFixture(dataDir, false)) {
            AdminFiles files = new AdminFiles(dataDir);
            URI base = URI.create(f.base);
            javax.net.ssl.SSLSocketFactory trusting = TlsIdentity.trusting(files.tlsCertificate()).getSocketFactory();
            try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) trusting.createSocket(base.getHost(), base.getPort())) {
                s.setSoTimeout(30_000);
                s.startHandshake();
                assertEquals("TLSv1.3", s.getSession().getProtocol());
                assertArrayEquals(TlsIdentity.readCertificate(files.tlsCertificate()).getEncoded(),
                        s.getSession().getPeerCertificates()[0].getEncoded());
            }
            try (javax.net.ssl.SSLSocket old = (javax.net.ssl.SSLSocket) trusting.createSocket(base.getHost(), base.getPort())) {
                old.setSoTimeout(30_000);
                old.setEnabledProtocols(new String[] {"TLSv1.1"});
                assertThrows(javax.net.ssl.SSLException.class, old::startHandshake, "TLS 1.1 is refused");
            }
        }
    }

    @Test
    void plainHttpWhenConfiguredStillNeedsTheToken() throws Exception {
        try (AdminFixture f = new AdminFixture(dataDir, true)) {
            assertTrue(f.base.startsWith("http://127.0.0.1:"), f.base);
            assertEquals(401, f.call("GET", "/api/v1/status", null, null).status());
            assertEquals(200, f.call("GET", "/api/v1/status", null).status());
            assertTrue(!Files.exists(new AdminFiles(dataDir).tlsKey()), "no TLS identity for plain HTTP");
        }
    }

    @Test
    void theWebUiIsServedWithoutDataAndWithAStrictPolicy() throws Exception {
        try (AdminFixture f = new AdminFixture(dataDir, false)) {
            HttpResponse<String> page = f.http.send(HttpRequest.newBuilder(URI.create(f.base + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("natgw"), "the UI page");
            assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'self'"));
            assertEquals(404, f.call("GET", "/../../etc/passwd", null).status());
        }
    }
}
