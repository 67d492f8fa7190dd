package io.natgw.gateway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.natgw.conf.NatgwConfig;
import io.natgw.gateway.admin.AdminEndpoint;
import io.natgw.gateway.admin.AdminFiles;
import io.natgw.gateway.admin.AdminToken;
import io.natgw.gateway.admin.TlsIdentity;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.time.Duration;

/**
 * The CLI's way to the running daemon: the admin address and data directory from the configuration, the
 * token from {@code <dataDir>/admin.token}, and trust in exactly the certificate the daemon wrote there.
 */
final class AdminClient {

    static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final String token;
    private final AdminFiles files;
    private final HttpClient http;

    private AdminClient(String base, String token, AdminFiles files, HttpClient http) {
        this.base = base;
        this.token = token;
        this.files = files;
        this.http = http;
    }

    static AdminClient connect(NatgwConfig config) throws CliException {
        AdminFiles files = new AdminFiles(config.dataDir());
        String base = AdminEndpoint.baseUrl(config);
        if (!config.admin().enabled()) {
            throw new CliException(CliException.NOT_RUNNING, "the admin API is disabled in " + config.source()
                    + " (admin.enabled: false): enable it and restart natgw");
        }
        String token;
        try {
            token = AdminToken.read(files.token());
        } catch (IOException e) {
            throw new CliException(CliException.AUTH, e.getMessage());
        }
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (!config.admin().plainHttp()) {
            if (!Files.isRegularFile(files.tlsCertificate())) {
                throw new CliException(CliException.NOT_RUNNING, "no admin certificate at " + files.tlsCertificate()
                        + ": start the daemon once (natgw run -c " + config.source() + ") to create it");
            }
            try {
                b.sslContext(TlsIdentity.trusting(files.tlsCertificate()));
            } catch (IOException e) {
                throw new CliException(CliException.NOT_RUNNING, e.getMessage());
            }
        }
        return new AdminClient(base.replaceAll("/$", ""), token, files, b.build());
    }

    String baseUrl() {
        return base + "/";
    }

    JsonNode get(String path) throws CliException {
        return send("GET", path, null);
    }

    JsonNode post(String path, Object body) throws CliException {
        return send("POST", path, body);
    }

    JsonNode put(String path, Object body) throws CliException {
        return send("PUT", path, body);
    }

    JsonNode delete(String path) throws CliException {
        return send("DELETE", path, null);
    }

    private JsonNode send(String method, String path, Object body) throws CliException {
        HttpResponse<String> r;
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer " + token);
            if (body != null) {
                b.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            } else {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            }
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw notRunning();
        } catch (HttpTimeoutException e) {
            throw new CliException(CliException.NOT_RUNNING, "natgw at " + baseUrl() + " did not answer within 30 s");
        } catch (SSLException e) {
            throw new CliException(CliException.NOT_RUNNING, "the admin listener at " + baseUrl()
                    + " is not the natgw whose certificate is " + files.tlsCertificate() + " (" + e.getMessage() + ")");
        } catch (IOException e) {
            if (e.getCause() instanceof ConnectException) {
                throw notRunning();
            }
            throw new CliException(CliException.NOT_RUNNING, "talking to natgw at " + baseUrl() + " failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(CliException.NOT_RUNNING, "interrupted");
        }
        JsonNode json;
        try {
            json = JSON.readTree(r.body());
        } catch (IOException e) {
            throw new CliException(CliException.REFUSED, "natgw answered " + r.statusCode() + " with a body that is not JSON");
        }
        // 401, and 403 naming the Authorization header, are the token; any other 403 is the table refusing the request
        // (a permission rule, an internal address natgw does not serve): its own message follows below
        if (r.statusCode() == 401 || r.statusCode() == 403 && "Authorization".equals(json.path("field").asText(null))) {
            throw new CliException(CliException.AUTH, "natgw at " + baseUrl() + " refused the token in " + files.token()
                    + " (" + r.statusCode() + "): the daemon uses another data directory, or the token file changed since it started");
        }
        if (r.statusCode() >= 400) {
            StringBuilder sb = new StringBuilder(json.path("error").asText("HTTP " + r.statusCode()));
            if (json.hasNonNull("field")) {
                sb.append(" (field: ").append(json.path("field").asText());
                if (json.hasNonNull("accepted")) {
                    sb.append("; accepted: ").append(json.path("accepted").asText());
                }
                sb.append(')');
            } else if (json.hasNonNull("accepted")) {
                sb.append(" (accepted: ").append(json.path("accepted").asText()).append(')');
            }
            throw new CliException(CliException.REFUSED, sb.toString());
        }
        return json;
    }

    private CliException notRunning() {
        return new CliException(CliException.NOT_RUNNING, "natgw is not running: nothing answers at " + baseUrl()
                + " (start it with: natgw run -c FILE)");
    }
}
