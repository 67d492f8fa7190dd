package io.natgw.gateway.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/** The web UI's static files (HTML, CSS, vanilla JS), read once from the classpath; nothing else is served. */
final class WebAssets {

    record Asset(String contentType, byte[] bytes) {
    }

    private static final String ROOT = "io/natgw/gateway/web/";
    private static final Map<String, String> FILES = Map.of(
            "index.html", "text/html; charset=utf-8",
            "app.js", "text/javascript; charset=utf-8",
            "style.css", "text/css; charset=utf-8");

    private final Map<String, Asset> assets = new HashMap<>();

    WebAssets() {
        for (Map.Entry<String, String> f : FILES.entrySet()) {
            try (InputStream in = WebAssets.class.getClassLoader().getResourceAsStream(ROOT + f.getKey())) {
                if (in == null) {
                    throw new IllegalStateException("web UI file " + ROOT + f.getKey() + " is missing from the jar");
                }
                assets.put("/" + f.getKey(), new Asset(f.getValue(), in.readAllBytes()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        assets.put("/", assets.get("/index.html"));
    }

    Asset get(String path) {
        return assets.get(path);
    }
}
