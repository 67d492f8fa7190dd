package io.natgw.gateway.admin;

import io.natgw.conf.PredefinedTriggers;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;

/**
 * The versioned API's routes: {@code /api/v1/mappings}, {@code /api/v1/triggers}, {@code /api/v1/status},
 * {@code POST /api/v1/reload}.
 * Answers are futures: mapping changes complete when the table has made them durable, trigger changes run
 * one at a time on {@code triggerWorker} (they write a file), reads answer at once.
 */
final class AdminApi {

    private static final Logger LOG = LoggerFactory.getLogger(AdminApi.class);

    private final MappingsApi mappings;
    private final AdminTriggers triggers;
    private final StatusApi status;
    private final ExecutorService triggerWorker;

    private java.util.function.Supplier<ReloadReport> reload;
    private ExecutorService reloadWorker;

    AdminApi(MappingsApi mappings, AdminTriggers triggers, StatusApi status, ExecutorService triggerWorker) {
        this.mappings = mappings;
        this.triggers = triggers;
        this.status = status;
        this.triggerWorker = triggerWorker;
    }

    /** {@code POST /api/v1/reload} runs {@code r} on {@code worker} (it waits on the table); none: 404. */
    AdminApi withReload(java.util.function.Supplier<ReloadReport> r, ExecutorService worker) {
        this.reload = r;
        this.reloadWorker = worker;
        return this;
    }

    /**
     * Always completes with an answer: a client's mistake as its 4xx, an unexpected failure (a bug) as 500 with a
     * JSON error, logged at ERROR with its stack trace; never a dropped connection.
     */
    CompletableFuture<ApiResponse> handle(ApiRequest r) {
        try {
            return route(r).exceptionally(t -> failed(r, t));
        } catch (ApiException e) {
            return CompletableFuture.completedFuture(ApiResponse.error(e));
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(failed(r, e));
        }
    }

    private CompletableFuture<ApiResponse> route(ApiRequest r) throws ApiException {
        List<String> seg = segments(r.path());
        HttpMethod m = r.method();
        if (seg.isEmpty()) {
            throw ApiException.notFound("no such endpoint " + r.path());
        }
        switch (seg.get(0)) {
            case "status":
                only(seg, 1, m, HttpMethod.GET);
                return done(ApiResponse.ok(status.status()));
            case "mappings":
                if (seg.size() == 1) {
                    if (m.equals(HttpMethod.GET)) {
                        return done(mappings.list(r));
                    } else if (m.equals(HttpMethod.POST)) {
                        return mappings.create(r);
                    } else if (m.equals(HttpMethod.DELETE)) {
                        return mappings.deleteMatching(r);
                    }
                    throw notAllowed(m, "GET, POST, DELETE");
                }
                if (seg.size() == 3) {
                    if (m.equals(HttpMethod.GET)) {
                        return done(mappings.get(r, seg.get(1), seg.get(2)));
                    } else if (m.equals(HttpMethod.DELETE)) {
                        return mappings.delete(r, seg.get(1), seg.get(2));
                    }
                    throw notAllowed(m, "GET, DELETE");
                }
                throw ApiException.notFound("no such endpoint " + r.path() + " (accepted: /api/v1/mappings/{tcp|udp}/{port})");
            case "triggers":
                return triggers(r, seg, m);
            case "reload":
                only(seg, 1, m, HttpMethod.POST);
                if (reload == null) {
                    throw ApiException.notFound("this gateway cannot reload its configuration");
                }
                // 200 with what was applied; an invalid file changes nothing: 422 with file:line:column per error
                return CompletableFuture.supplyAsync(reload, reloadWorker).thenApply(rep -> ApiResponse.json(
                        rep.applied() ? HttpResponseStatus.OK : HttpResponseStatus.UNPROCESSABLE_ENTITY, rep));
            default:
                throw ApiException.notFound("no such endpoint " + r.path());
        }
    }

    private CompletableFuture<ApiResponse> triggers(ApiRequest r, List<String> seg, HttpMethod m) throws ApiException {
        if (seg.size() == 1) {
            if (m.equals(HttpMethod.GET)) {
                return done(ApiResponse.ok(Map.of("triggers", triggers.listing(), "source", triggers.source())));
            } else if (m.equals(HttpMethod.POST)) {
                var body = Json.object(r.body(), TriggerJson.FIELDS);
                return onWorker(HttpResponseStatus.CREATED, () -> triggers.add(body));
            }
            throw notAllowed(m, "GET, POST");
        }
        String id = seg.get(1);
        if (seg.size() == 2 && id.equals("reset") && m.equals(HttpMethod.POST)) {
            // drop the saved set, back to the configuration file's rules (natgw triggers reset); POST on a rule is unused
            return onWorker(HttpResponseStatus.OK, () -> Map.of("triggers", triggers.reset(), "source", triggers.source()));
        }
        if (seg.size() == 2 && id.equals("predefined")) {
            only(seg, 2, m, HttpMethod.GET);
            List<TriggerJson> out = new ArrayList<>();
            var all = PredefinedTriggers.all();
            for (int i = 0; i < all.size(); i++) {
                out.add(TriggerJson.of(i + 1, all.get(i)));
            }
            return done(ApiResponse.ok(Map.of("predefined", out)));
        }
        if (seg.size() == 2) {
            if (m.equals(HttpMethod.GET)) {
                return done(ApiResponse.ok(triggers.get(id)));
            } else if (m.equals(HttpMethod.PUT) || m.equals(HttpMethod.PATCH)) {
                var body = Json.object(r.body(), TriggerJson.FIELDS);
                return onWorker(HttpResponseStatus.OK, () -> triggers.change(id, body));
            } else if (m.equals(HttpMethod.DELETE)) {
                return onWorker(HttpResponseStatus.OK, () -> triggers.delete(id));
            }
            throw notAllowed(m, "GET, PUT, PATCH, DELETE");
        }
        if (seg.size() == 3 && (seg.get(2).equals("enable") || seg.get(2).equals("disable"))) {
            only(seg, 3, m, HttpMethod.POST);
            boolean on = seg.get(2).equals("enable");
            return onWorker(HttpResponseStatus.OK, () -> triggers.setEnabled(id, on));
        }
        throw ApiException.notFound("no such endpoint " + r.path()
                + " (accepted: /api/v1/triggers[/{index|name}[/enable|/disable]], /api/v1/triggers/predefined,"
                + " POST /api/v1/triggers/reset)");
    }

    interface TriggerChange {
        Object run() throws ApiException, IOException;
    }

    private CompletableFuture<ApiResponse> onWorker(HttpResponseStatus status, TriggerChange change) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return ApiResponse.json(status, change.run());
            } catch (ApiException e) {
                return ApiResponse.error(e);
            } catch (IOException e) {
                LOG.warn("trigger rules not saved: {}", e.getMessage(), e);
                return ApiResponse.json(HttpResponseStatus.SERVICE_UNAVAILABLE,
                        new ApiException.ErrorBody("trigger rules not saved, nothing changed: " + e.getMessage(), null, null));
            }
        }, triggerWorker);
    }

    /**
     * An exception nothing expected: a RuntimeException is a bug (500), anything else (an I/O failure under the
     * table) makes the service unavailable (503). Either way it is logged at ERROR with its stack trace.
     */
    static ApiResponse failed(ApiRequest r, Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        if (cause instanceof ApiException e) {
            return ApiResponse.error(e);
        }
        boolean bug = cause instanceof RuntimeException || cause instanceof Error;
        LOG.error("admin {} {} from {} failed", r.method(), r.path(), r.client().getHostAddress(), cause);
        return ApiResponse.json(bug ? HttpResponseStatus.INTERNAL_SERVER_ERROR : HttpResponseStatus.SERVICE_UNAVAILABLE,
                new ApiException.ErrorBody((bug ? "internal error: " : "the request failed: ") + cause, null, null));
    }

    private static void only(List<String> seg, int size, HttpMethod m, HttpMethod allowed) throws ApiException {
        if (seg.size() != size) {
            throw ApiException.notFound("no such endpoint /" + String.join("/", seg));
        }
        if (!m.equals(allowed)) {
            throw notAllowed(m, allowed.name());
        }
    }

    private static ApiException notAllowed(HttpMethod m, String allowed) {
        return new ApiException(HttpResponseStatus.METHOD_NOT_ALLOWED, "method " + m + " is not allowed here", "method", allowed);
    }

    private static CompletableFuture<ApiResponse> done(ApiResponse r) {
        return CompletableFuture.completedFuture(r);
    }

    /** {@code /api/v1/mappings/tcp/6000} → {@code [mappings, tcp, 6000]} (the part after the version). */
    static List<String> segments(String path) {
        String rest = path.substring(Routes.API.length());
        List<String> out = new ArrayList<>();
        for (String s : rest.split("/")) {
            if (!s.isEmpty()) {
                out.add(io.netty.handler.codec.http.QueryStringDecoder.decodeComponent(s));
            }
        }
        return out;
    }
}
