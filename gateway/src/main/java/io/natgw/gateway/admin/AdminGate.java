package io.natgw.gateway.admin;

import io.natgw.igd.ConnectionCap;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * One admin connection's deadlines and its authorization, between the HTTP codec and the body aggregator:
 * a complete request head within {@link AdminLimits#headTimeout()} of connecting (TLS handshake included) or of
 * the previous answer, the body within {@link AdminLimits#bodyTimeout()} of the head; and the bearer token of an
 * API or {@code /metrics} request is checked on the head, before any body byte is read or buffered. A refused
 * request is answered 401/403 and the connection closed; what follows it is dropped.
 */
final class AdminGate extends ChannelDuplexHandler {

    private static final Logger LOG = LoggerFactory.getLogger(AdminGate.class);

    private final AdminToken token;
    private final AdminLimits limits;
    private final FailedLogins failedLogins;
    private ScheduledFuture<?> deadline;
    private boolean inBody;
    private boolean refused;

    AdminGate(AdminToken token, AdminLimits limits, FailedLogins failedLogins) {
        this.token = token;
        this.limits = limits;
        this.failedLogins = failedLogins;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        arm(ctx, limits.headTimeout().toMillis(), "no complete request head");
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancel();
        super.channelInactive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest req) {
            cancel();
            ConnectionCap.markBusy(ctx.channel());
            if (req.decoderResult().isSuccess() && !authorized(ctx, req)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            inBody = !(msg instanceof LastHttpContent);
            if (inBody) {
                arm(ctx, limits.bodyTimeout().toMillis(), "request body not complete");
            }
        } else if (msg instanceof LastHttpContent) {
            cancel();
            inBody = false;
        }
        ctx.fireChannelRead(msg);
    }

    /** A complete answer was written: the next request's head is due within the head deadline. */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof LastHttpContent && !inBody) {
            arm(ctx, limits.headTimeout().toMillis(), "no complete request head after the previous answer");
        }
        ctx.write(msg, promise);
    }

    private boolean authorized(ChannelHandlerContext ctx, HttpRequest req) {
        String path = new QueryStringDecoder(req.uri()).path();
        boolean needsToken = path.equals(Routes.API) || path.startsWith(Routes.API + "/") || path.equals("/metrics");
        if (!needsToken) {
            return true;
        }
        String presented = AdminHttpHandler.bearer(req.headers().get(HttpHeaderNames.AUTHORIZATION));
        if (presented != null && token.matches(presented)) {
            return true;
        }
        InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
        failedLogins.failed(remote.getAddress(), (presented == null ? "no bearer token" : "a wrong bearer token")
                + " for " + req.method() + " " + path);
        refuse(ctx, presented == null ? HttpResponseStatus.UNAUTHORIZED : HttpResponseStatus.FORBIDDEN,
                presented == null
                        ? new ApiException.ErrorBody("a bearer token is required", "Authorization",
                                "Authorization: Bearer <token from natgw token>")
                        : new ApiException.ErrorBody("the bearer token is wrong", "Authorization", "the token from natgw token"));
        return false;
    }

    private void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, ApiException.ErrorBody body) {
        refused = true;
        cancel();
        ctx.channel().config().setAutoRead(false);
        byte[] json = Json.writeString(body).getBytes(StandardCharsets.UTF_8);
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(json));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, json.length)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        if (status.equals(HttpResponseStatus.UNAUTHORIZED)) {
            res.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"natgw\"");
        }
        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
    }

    private void arm(ChannelHandlerContext ctx, long millis, String what) {
        cancel();
        deadline = ctx.executor().schedule(() -> {
            LOG.debug("closed admin connection from {}: {} within {} ms", ctx.channel().remoteAddress(), what, millis);
            ctx.close();
        }, millis, TimeUnit.MILLISECONDS);
    }

    private void cancel() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
    }
}
