package io.natgw.igd;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import org.jupnp.model.message.UpnpRequest;
import org.jupnp.protocol.ProtocolFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One connection's requests, one at a time: copies each complete request out of its buffers into an
 * {@link HttpExchange}, applies {@link RequestGuard}, and reads it as a {@link SoapShortcut.Call}. An add or delete is
 * sent to the table from here and answered here when the table answers, so no thread waits for the disk; anything
 * else runs on the worker pool ({@link NettyUpnpStream}). At most one request per connection is in flight. The time
 * from connect (or the previous response) to the next complete request is bounded, so slow or idle clients
 * are closed.
 *
 * <p>Pipelined requests are answered strictly in order. A refusal (a bad Host, too many pipelined requests …)
 * takes its place in that order: every request before it is run and answered, then the refusal is written and
 * the connection closed, and nothing read after it runs. So a refused request never leaves a side effect and
 * never hides the answer to one that had one.
 */
final class UpnpHttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger LOG = LoggerFactory.getLogger(UpnpHttpHandler.class);
    private static final int MAX_PIPELINED = 8;

    private final ProtocolFactory protocolFactory;
    private final SoapShortcut shortcut;
    private final ExecutorService workers;
    private final RequestGuard guard;
    private final long requestTimeoutMillis;
    /** Requests read while one was running: an {@link HttpExchange} to run, or a {@link Refusal} to answer last. */
    private final ArrayDeque<Object> queued = new ArrayDeque<>();
    private boolean busy;
    /** A refusal was read (queued or written): everything after it is dropped unanswered. */
    private boolean refusing;
    private boolean inputClosed;
    private ScheduledFuture<?> deadline;

    UpnpHttpHandler(ProtocolFactory protocolFactory, SoapShortcut shortcut, ExecutorService workers, RequestGuard guard,
                    long requestTimeoutMillis) {
        this.protocolFactory = protocolFactory;
        this.shortcut = shortcut;
        this.workers = workers;
        this.guard = guard;
        this.requestTimeoutMillis = requestTimeoutMillis;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        InetAddress remote = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
        if (!guard.isLanClient(remote)) {
            LOG.debug("closed UPnP HTTP connection from {}: not a LAN client", remote.getHostAddress());
            ctx.close();
            return;
        }
        armDeadline(ctx);
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancelDeadline();
        super.channelInactive(ctx);
    }

    /** A request {@link HttpLimits} refused before it was complete: answered in its place in the order. */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof HttpLimits.Refused r) {
            if (!refusing) {
                cancelDeadline();
                refuse(ctx, r.status(), r.why());
            }
            return;
        }
        super.channelRead(ctx, msg);
    }

    /** The client finished sending (half-close): answer what is in flight, then close. */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputClosed = true;
            if (!busy) {
                ctx.close();
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (refusing) {
            return; // read after a refusal: never run (the connection closes once the refusal is written)
        }
        cancelDeadline();
        ConnectionCap.markBusy(ctx.channel());
        InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
        InetSocketAddress local = (InetSocketAddress) ctx.channel().localAddress();
        boolean keepAlive = HttpUtil.isKeepAlive(req);

        String host = req.headers().get(HttpHeaderNames.HOST);
        if (!RequestGuard.hostIsLiteral(host)) {
            // DNS rebinding: a page from evil.example resolved to our address carries its own name here.
            refuse(ctx, HttpResponseStatus.FORBIDDEN, "Host " + host + " is not an IP literal");
            return;
        }
        String contentType = req.headers().get(HttpHeaderNames.CONTENT_TYPE);
        if (contentType != null && !RequestGuard.contentTypeAcceptable(contentType)) {
            refuse(ctx, HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type " + contentType);
            return;
        }
        UpnpRequest.Method method = UpnpRequest.Method.getByHttpName(req.method().name());
        if (method == UpnpRequest.Method.UNKNOWN) {
            refuse(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, req.method().name());
            return;
        }
        URI uri;
        try {
            uri = new URI(req.uri());
            String path = uri.getRawPath();
            if (path == null || !path.startsWith("/")) {
                throw new URISyntaxException(req.uri(), "not an absolute path");
            }
            uri = new URI(null, null, path, null).normalize();
            if (method == UpnpRequest.Method.GET) {
                uri = new URI(null, null, guard.descriptionPath(uri.getPath(), req.headers().get(HttpHeaderNames.USER_AGENT)), null);
            }
        } catch (URISyntaxException e) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, "request target " + req.uri());
            return;
        }
        if (method == UpnpRequest.Method.SUBSCRIBE && req.headers().contains("CALLBACK")
                && !RequestGuard.callbackAllowed(req.headers().get("CALLBACK"), remote.getAddress())) {
            // CallStranger (CVE-2020-12695): events go only to the subscriber itself.
            refuse(ctx, HttpResponseStatus.PRECONDITION_FAILED, "callback " + req.headers().get("CALLBACK"));
            return;
        }
        if (method == UpnpRequest.Method.SUBSCRIBE && !req.headers().contains("SID")) {
            String full = guard.subscriptionRefusal(remote.getAddress());
            if (full != null) {
                refuse(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, full);
                return;
            }
        }
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        for (Map.Entry<String, String> h : req.headers()) {
            if (h.getKey().equalsIgnoreCase("TIMEOUT") && method == UpnpRequest.Method.SUBSCRIBE
                    && !RequestGuard.timeoutAcceptable(h.getValue())) {
                // a client's unreadable TIMEOUT: the default duration applies (jupnp would log it at ERROR)
                LOG.debug("SUBSCRIBE from {}: ignored TIMEOUT {}", remote.getAddress().getHostAddress(), h.getValue());
                continue;
            }
            if (h.getKey().equalsIgnoreCase("Host") && h.getValue().trim().startsWith("[")) {
                // checked above (an IPv6 literal); jupnp cannot parse a bracketed host and would answer 412 for a
                // Host it reads as missing: it only needs one to be there
                headers.add(Map.entry(h.getKey(), JUPNP_IPV6_HOST));
                continue;
            }
            headers.add(h.getKey().equalsIgnoreCase("SOAPAction") ? Map.entry(h.getKey(), quoted(h.getValue())) : h);
        }
        byte[] body = ByteBufUtil.getBytes(req.content());
        HttpExchange exchange = new HttpExchange(method, uri, req.protocolVersion().minorVersion(), headers, body,
                keepAlive, remote.getAddress(), local.getAddress(), ctx.channel());
        if (busy) {
            if (queued.size() >= MAX_PIPELINED) {
                refuse(ctx, HttpResponseStatus.TOO_MANY_REQUESTS, "more than " + MAX_PIPELINED + " pipelined requests");
                return;
            }
            queued.add(exchange);
            return;
        }
        dispatch(ctx, exchange);
    }

    /** What jupnp is given as the Host of a request whose Host is an IPv6 literal (jupnp only checks it is present). */
    static final String JUPNP_IPV6_HOST = "ipv6-literal";

    /** Some clients send SOAPAction without the quotes UDA requires; jupnp would refuse the action. */
    static String quoted(String soapAction) {
        String v = soapAction.trim();
        return v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"") ? v : "\"" + v.replace("\"", "") + "\"";
    }

    /** A refused request: answered now when nothing runs, else after every request read before it. */
    private record Refusal(HttpResponseStatus status, String why) {
    }

    private void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, String why) {
        refusing = true;
        ctx.channel().config().setAutoRead(false);
        if (busy) {
            queued.add(new Refusal(status, why));
        } else {
            respond(ctx, status, why);
        }
    }

    private void dispatch(ChannelHandlerContext ctx, HttpExchange exchange) {
        busy = true;
        ctx.channel().config().setAutoRead(false);
        SoapShortcut.Call call;
        try {
            call = shortcut.call(exchange);
        } catch (RuntimeException e) {
            LOG.warn("UPnP {} {} from {} failed: {}", exchange.method().getHttpName(), exchange.uri(),
                    exchange.remote().getHostAddress(), e.toString());
            answer(ctx, exchange, NettyUpnpStream.status(500));
            return;
        }
        if (call != null && call.onTable()) {
            // no thread waits for the table: the request is sent from here, the answer written here when it comes
            call.send(ctx.executor()).whenComplete((answer, failure) -> answer(ctx, exchange,
                    failure == null ? NettyUpnpStream.toNetty(answer) : NettyUpnpStream.status(500)));
            return;
        }
        try {
            workers.execute(new NettyUpnpStream(protocolFactory, call, exchange, () -> ctx.executor().execute(() -> next(ctx))));
        } catch (RejectedExecutionException e) {
            respond(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "all workers busy");
        }
    }

    /** Writes the answer to {@code exchange} (on the event loop), then goes on as after a worker's answer. */
    private void answer(ChannelHandlerContext ctx, HttpExchange exchange, FullHttpResponse response) {
        if (!exchange.keepAlive()) {
            response.headers().set(HttpHeaderNames.CONNECTION, "close");
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.writeAndFlush(response).addListener(done -> next(ctx));
    }

    /** After a response was written: the next pipelined request, or read on. Runs on the event loop. */
    private void next(ChannelHandlerContext ctx) {
        busy = false;
        if (!ctx.channel().isActive()) {
            return;
        }
        Object e = queued.poll();
        if (e instanceof HttpExchange exchange) {
            dispatch(ctx, exchange);
            return;
        }
        if (e instanceof Refusal r) {
            queued.clear();
            respond(ctx, r.status(), r.why());
            return;
        }
        if (inputClosed) {
            ctx.close();
            return;
        }
        armDeadline(ctx);
        if (!ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    private void armDeadline(ChannelHandlerContext ctx) {
        cancelDeadline();
        deadline = ctx.executor().schedule(() -> {
            LOG.debug("closed UPnP HTTP connection from {}: no complete request within {} ms",
                    ctx.channel().remoteAddress(), requestTimeoutMillis);
            ctx.close();
        }, requestTimeoutMillis, TimeUnit.MILLISECONDS);
    }

    private void cancelDeadline() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
    }

    private void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String why) {
        LOG.debug("refused UPnP HTTP request from {}: {} ({})", ctx.channel().remoteAddress(), status.code(), why);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0).set(HttpHeaderNames.CONNECTION, "close");
        ctx.channel().config().setAutoRead(false);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("UPnP HTTP connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
