package io.natgw.gateway.admin;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * One admin connection: static UI files without a token; the API, the event stream and {@code /metrics}
 * only with {@code Authorization: Bearer <token>} (401 without one, 403 with a wrong one). One request at a
 * time per connection (reads pause until the answer is written), so answers never overtake each other.
 */
@ChannelHandler.Sharable
final class AdminHttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger LOG = LoggerFactory.getLogger(AdminHttpHandler.class);
    private static final String CSP = "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:;"
            + " frame-ancestors 'none'";

    private final AdminToken token;
    private final AdminApi api;
    private final TableEvents events;
    private final AdminMetrics metrics;
    private final WebAssets assets;

    AdminHttpHandler(AdminToken token, AdminApi api, TableEvents events, AdminMetrics metrics, WebAssets assets) {
        this.token = token;
        this.api = api;
        this.events = events;
        this.metrics = metrics;
        this.assets = assets;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        try {
            serve(ctx, req);
        } catch (RuntimeException e) {
            // a bug (the metrics scrape, a static file …): the client gets an answer, the log gets the stack trace
            LOG.error("admin {} {} from {} failed", req.method(), req.uri(), ctx.channel().remoteAddress(), e);
            send(ctx, ApiResponse.json(HttpResponseStatus.INTERNAL_SERVER_ERROR,
                    new ApiException.ErrorBody("internal error: " + e, null, null)), false);
        }
    }

    private void serve(ChannelHandlerContext ctx, FullHttpRequest req) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (!req.decoderResult().isSuccess()) {
            send(ctx, ApiResponse.json(HttpResponseStatus.BAD_REQUEST,
                    new ApiException.ErrorBody("malformed HTTP request", null, "HTTP/1.1")), false);
            return;
        }
        QueryStringDecoder uri = new QueryStringDecoder(req.uri());
        String path = uri.path();
        boolean isApi = path.equals(Routes.API) || path.startsWith(Routes.API + "/");
        if (!isApi && !path.equals("/metrics")) {
            staticFile(ctx, req, path, keepAlive);
            return;
        }
        String presented = bearer(req.headers().get(HttpHeaderNames.AUTHORIZATION));
        if (presented == null) {
            ApiResponse r = ApiResponse.json(HttpResponseStatus.UNAUTHORIZED, new ApiException.ErrorBody(
                    "a bearer token is required", "Authorization", "Authorization: Bearer <token from natgw token>"));
            send(ctx, r, keepAlive);
            return;
        }
        if (!token.matches(presented)) { // refused on the head already (AdminGate); kept as a second line
            LOG.debug("admin request with a wrong token from {}", ctx.channel().remoteAddress());
            send(ctx, ApiResponse.json(HttpResponseStatus.FORBIDDEN, new ApiException.ErrorBody(
                    "the bearer token is wrong", "Authorization", "the token from natgw token")), keepAlive);
            return;
        }
        if (path.equals("/metrics")) {
            send(ctx, new ApiResponse(HttpResponseStatus.OK, "text/plain; version=0.0.4; charset=utf-8",
                    metrics.scrape().getBytes(StandardCharsets.UTF_8)), keepAlive);
            return;
        }
        if (path.equals(Routes.API + "/events") && req.method().equals(HttpMethod.GET)) {
            eventStream(ctx);
            return;
        }
        InetAddress client = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
        ApiRequest r = new ApiRequest(req.method(), path, uri.parameters(), ByteBufUtil.getBytes(req.content()), client);
        ctx.channel().config().setAutoRead(false);
        api.handle(r).whenComplete((resp, err) -> {
            ctx.channel().config().setAutoRead(true);
            send(ctx, resp != null ? resp : ApiResponse.json(HttpResponseStatus.INTERNAL_SERVER_ERROR,
                    new ApiException.ErrorBody("internal error", null, null)), keepAlive);
        });
    }

    private void eventStream(ChannelHandlerContext ctx) {
        if (events.subscribers() >= TableEvents.MAX_SUBSCRIBERS) {
            send(ctx, ApiResponse.json(HttpResponseStatus.SERVICE_UNAVAILABLE, new ApiException.ErrorBody(
                    "too many event streams are open", null, "at most " + TableEvents.MAX_SUBSCRIBERS)), false);
            return;
        }
        HttpResponse head = new DefaultHttpResponse(io.netty.handler.codec.http.HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        ctx.writeAndFlush(head);
        if (!events.subscribe(ctx.channel())) {
            ctx.close();
        }
    }

    private void staticFile(ChannelHandlerContext ctx, FullHttpRequest req, String path, boolean keepAlive) {
        WebAssets.Asset a = assets.get(path);
        if (a == null) {
            send(ctx, ApiResponse.json(HttpResponseStatus.NOT_FOUND, new ApiException.ErrorBody("no such page " + path,
                    null, "/, /api/v1/..., /metrics")), keepAlive);
            return;
        }
        if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.HEAD)) {
            send(ctx, ApiResponse.json(HttpResponseStatus.METHOD_NOT_ALLOWED,
                    new ApiException.ErrorBody("method " + req.method() + " is not allowed here", "method", "GET")), keepAlive);
            return;
        }
        send(ctx, new ApiResponse(HttpResponseStatus.OK, a.contentType(), a.bytes()), keepAlive);
    }

    static String bearer(String header) {
        if (header == null) {
            return null;
        }
        String h = header.trim();
        return h.regionMatches(true, 0, "Bearer ", 0, 7) && h.length() > 7 ? h.substring(7).trim() : null;
    }

    private static void send(ChannelHandlerContext ctx, ApiResponse r, boolean keepAlive) {
        FullHttpResponse res = new DefaultFullHttpResponse(io.netty.handler.codec.http.HttpVersion.HTTP_1_1, r.status(),
                Unpooled.wrappedBuffer(r.body()));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType())
                .setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                .set("X-Content-Type-Options", "nosniff")
                .set("Content-Security-Policy", CSP)
                .set("Referrer-Policy", "no-referrer");
        if (r.status().equals(HttpResponseStatus.UNAUTHORIZED)) {
            res.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"natgw\"");
        }
        if (keepAlive) {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(res);
        } else {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            ctx.close();
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // a client's broken TLS handshake or reset connection: not the gateway's fault, no stack trace
        LOG.debug("admin connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
