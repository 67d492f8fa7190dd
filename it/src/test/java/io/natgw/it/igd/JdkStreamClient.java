package io.natgw.it.igd;

import org.jupnp.model.message.StreamRequestMessage;
import org.jupnp.model.message.StreamResponseMessage;
import org.jupnp.model.message.UpnpHeaders;
import org.jupnp.model.message.UpnpResponse;
import org.jupnp.transport.spi.AbstractStreamClientConfiguration;
import org.jupnp.transport.spi.StreamClient;
import org.jupnp.transport.spi.StreamClientConfiguration;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;

/**
 * jupnp's control point needs an HTTP client; its default is Jetty (not on this classpath). This one sends
 * jupnp's requests with the JDK's HttpClient, which is all a control point in a test needs.
 */
final class JdkStreamClient implements StreamClient<StreamClientConfiguration> {

    private static final Set<String> RESTRICTED = Set.of("host", "content-length", "connection", "expect", "upgrade");

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final StreamClientConfiguration config = new AbstractStreamClientConfiguration(Executors.newCachedThreadPool()) {
    };

    @Override
    public StreamResponseMessage sendRequest(StreamRequestMessage message) throws InterruptedException {
        byte[] body = message.hasBody() ? message.getBodyBytes() : new byte[0];
        HttpRequest.Builder b = HttpRequest.newBuilder(message.getUri()).timeout(Duration.ofSeconds(10))
                .method(message.getOperation().getHttpMethodName(),
                        body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        for (Map.Entry<String, List<String>> h : message.getHeaders().entrySet()) {
            if (!RESTRICTED.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                h.getValue().forEach(v -> b.header(h.getKey(), v));
            }
        }
        try {
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            StreamResponseMessage out = new StreamResponseMessage(new UpnpResponse(r.statusCode(), ""));
            UpnpHeaders headers = new UpnpHeaders();
            r.headers().map().forEach((k, vs) -> vs.forEach(v -> headers.add(k, v)));
            out.setHeaders(headers);
            if (r.body().length > 0) {
                out.setBodyCharacters(r.body());
            }
            return out;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    @Override
    public void stop() {
        config.getRequestExecutorService().shutdownNow();
    }

    @Override
    public StreamClientConfiguration getConfiguration() {
        return config;
    }
}
