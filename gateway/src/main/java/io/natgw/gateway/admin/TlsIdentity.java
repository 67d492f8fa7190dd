package io.natgw.gateway.admin;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The admin listener's self-signed identity: an EC P-256 key (PEM, mode 0600) and a certificate naming
 * every admin address plus loopback, both kept in the data directory and reused on restart. The
 * certificate is re-issued for the same key when the configured addresses are no longer all named.
 */
public record TlsIdentity(PrivateKey key, X509Certificate certificate) {

    private static final Logger LOG = LoggerFactory.getLogger(TlsIdentity.class);
    private static final Duration VALIDITY = Duration.ofDays(3650);

    public static TlsIdentity loadOrCreate(AdminFiles files, List<InetAddress> addresses, Instant now, SecureRandom random)
            throws IOException {
        try {
            PrivateKey key;
            KeyPair pair;
            if (Files.isRegularFile(files.tlsKey())) {
                AdminFiles.requireOwnerOnly(files.tlsKey(), "admin TLS key");
                key = readKey(files.tlsKey());
                X509Certificate existing = Files.isRegularFile(files.tlsCertificate()) ? readCertificate(files.tlsCertificate()) : null;
                if (existing != null && names(existing).containsAll(subjectNames(addresses))
                        && now.isBefore(existing.getNotAfter().toInstant())) {
                    return new TlsIdentity(key, existing);
                }
                pair = new KeyPair(existing != null ? existing.getPublicKey() : null, key);
                if (pair.getPublic() == null) {
                    throw new IOException(files.tlsKey() + " exists but " + files.tlsCertificate()
                            + " is missing: remove both to create a new identity");
                }
            } else {
                KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                g.initialize(new ECGenParameterSpec("secp256r1"), random);
                pair = g.generateKeyPair();
                AdminFiles.writeAtomically(files.tlsKey(), pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(pair.getPrivate(), null)), true);
            }
            X509Certificate cert = issue(pair, addresses, now, random);
            AdminFiles.writeAtomically(files.tlsCertificate(), pem(cert), false);
            LOG.info("admin TLS certificate issued for {} in {}", subjectNames(addresses), files.tlsCertificate());
            return new TlsIdentity(pair.getPrivate(), cert);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot create the admin TLS identity: " + e.getMessage(), e);
        }
    }

    /**
     * The key managers that present this identity to the admin listener's TLS, built with the JDK's own providers
     * (SunEC, SunJSSE). Netty's {@code SslContextBuilder.forServer(key, certificate)} would do the same, but finding
     * Bouncy Castle's provider on the class path it instantiates it (hundreds of classes and their algorithm tables,
     * about 3 MiB resident) only to convert a key the JDK already holds.
     *
     * <p>The key store lives in memory only, so it is a JKS store: a PKCS12 store protects an entry with 10 000 rounds
     * of PBKDF2 when it is put in and again when the key manager takes it out, about 50 ms of a start-up in the
     * interpreter, for a key that never leaves memory.
     */
    public KeyManager[] keyManagers() throws IOException {
        try {
            char[] none = new char[0];
            KeyStore ks = KeyStore.getInstance("JKS");
            ks.load(null, null);
            ks.setKeyEntry("natgw-admin", key, none, new X509Certificate[] {certificate});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, none);
            return kmf.getKeyManagers();
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot use the admin TLS identity: " + e.getMessage(), e);
        }
    }

    /** An SSL context that trusts exactly this certificate file (the CLI talking to its own daemon). */
    public static SSLContext trusting(Path certificateFile) throws IOException {
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            ks.setCertificateEntry("natgw-admin", readCertificate(certificateFile));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot trust " + certificateFile + ": " + e.getMessage(), e);
        }
    }

    public static X509Certificate readCertificate(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file); PEMParser p = new PEMParser(r)) {
            Object o = p.readObject();
            if (!(o instanceof X509CertificateHolder holder)) {
                throw new IOException(file + " holds no PEM certificate");
            }
            return new JcaX509CertificateConverter().getCertificate(holder);
        } catch (java.security.cert.CertificateException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    private static PrivateKey readKey(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file); PEMParser p = new PEMParser(r)) {
            Object o = p.readObject();
            if (o instanceof org.bouncycastle.openssl.PEMKeyPair pair) {
                o = pair.getPrivateKeyInfo();
            }
            if (!(o instanceof PrivateKeyInfo info)) {
                throw new IOException(file + " holds no unencrypted PEM private key");
            }
            return new JcaPEMKeyConverter().getPrivateKey(info);
        }
    }

    private static X509Certificate issue(KeyPair pair, List<InetAddress> addresses, Instant now, SecureRandom random)
            throws GeneralSecurityException, OperatorCreationException, IOException {
        X500Name subject = new X500Name("CN=natgw admin");
        List<GeneralName> sans = new ArrayList<>();
        for (String n : subjectNames(addresses)) {
            sans.add(n.equals("localhost") ? new GeneralName(GeneralName.dNSName, n) : new GeneralName(GeneralName.iPAddress, n));
        }
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, new BigInteger(64, random).add(BigInteger.ONE),
                Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(VALIDITY)), subject, pair.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
    }

    /** Loopback and every configured address (a wildcard address adds nothing: the host's names are unknown). */
    static Set<String> subjectNames(List<InetAddress> addresses) {
        Set<String> names = new LinkedHashSet<>(List.of("localhost", "127.0.0.1", "::1"));
        for (InetAddress a : addresses) {
            if (!a.isAnyLocalAddress()) {
                names.add(canonical(a.getHostAddress()));
            }
        }
        return names;
    }

    private static Set<String> names(X509Certificate cert) throws CertificateParsingException {
        Set<String> out = new LinkedHashSet<>();
        Collection<List<?>> sans = cert.getSubjectAlternativeNames();
        if (sans != null) {
            for (List<?> san : sans) {
                out.add(canonical(String.valueOf(san.get(1))));
            }
        }
        return out;
    }

    private static String canonical(String name) {
        if (name.indexOf(':') >= 0) {
            try {
                return InetAddress.getByName(name).getHostAddress().replace("0:0:0:0:0:0:0:1", "::1");
            } catch (java.net.UnknownHostException e) {
                return name;
            }
        }
        return name;
    }

    private static String pem(Object o) throws IOException {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
            pw.writeObject(o);
        }
        return w.toString();
    }
}
