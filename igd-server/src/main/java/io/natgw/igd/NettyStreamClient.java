package io.natgw.igd;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.ReadTimeoutHandler;
import org.jupnp.model.message.StreamRequestMessage;
import org.jupnp.model.message.StreamResponseMessage;
import org.jupnp.model.message.UpnpHeaders;
import org.jupnp.model.message.UpnpResponse;
import org.jupnp.transport.spi.AbstractStreamClientConfiguration;
import org.jupnp.transport.spi.StreamClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * jupnp's HTTP client on Netty, used by the device only for GENA NOTIFY to subscribers. Connects only to IP
 * literals (callbacks were checked to be the subscriber's own address), bounds connect, response time and size.
 * Called on jupnp's threads, never on an event loop, so waiting for the answer is allowed.
 */
final class NettyStreamClient implements StreamClient<NettyStreamClient.Config> {

    private static final Logger LOG = LoggerFactory.getLogger(NettyStreamClient.class);
    private static final int MAX_RESPONSE_BYTES = 64 * 1024;

    static final class Config extends AbstractStreamClientConfiguration {
        Config(ExecutorService executor, int timeoutSeconds) {
            super(executor, timeoutSeconds, timeoutSeconds, 0, 0);
        }
    }

    private final Config config;
    private final EventLoopGroup group;
    private final HttpTransport transport;

    NettyStreamClient(Config config, EventLoopGroup group, HttpTransport transport) {
        this.config = config;
        this.group = group;
        this.transport = transport;
    }

    @Override
    public StreamResponseMessage sendRequest(StreamRequestMessage message) throws InterruptedException {
        URI uri = message.getUri();
        Optional<InetAddress> host = uri.getHost() == null ? Optional.empty()
                : RequestGuard.literal(uri.getHost().replace("[", "").replace("]", ""));
        if (!"http".equalsIgnoreCase(uri.getScheme()) || host.isEmpty()) {
            LOG.debug("not sending {} to {}: only http to IP literals", message.getOperation().getHttpMethodName(), uri);
            return null;
        }
        int port = uri.getPort() > 0 ? uri.getPort() : 80;
        CompletableFuture<FullHttpResponse> answer = new CompletableFuture<>();
        int timeout = config.getTimeoutSeconds();
        Bootstrap b = new Bootstrap().group(group).channel(transport.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeout * 1000)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(timeout))
                                .addLast(new HttpClientCodec())
                                .addLast(new HttpObjectAggregator(MAX_RESPONSE_BYTES))
                                .addLast(new SimpleChannelInboundHandler<FullHttpResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                                        answer.complete(r.retainedDuplicate());
                                        ctx.close();
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        answer.completeExceptionally(cause);
                                        ctx.close();
                                    }

                                    @Override
                                    public void channelInactive(ChannelHandlerContext ctx) {
                                        answer.completeExceptionally(new IllegalStateException("connection closed"));
                                    }
                                });
                    }
                });
        Channel ch = null;
        FullHttpResponse r = null;
        try {
            ch = b.connect(new InetSocketAddress(host.get(), port)).awaitUninterruptibly().channel();
            if (!ch.isActive()) {
                LOG.debug("{} {}: cannot connect", message.getOperation().getHttpMethodName(), uri);
                return null;
            }
            ch.writeAndFlush(toNetty(message, uri));
            r = answer.get(timeout, TimeUnit.SECONDS);
            return toJupnp(r);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.debug("{} {} failed: {}", message.getOperation().getHttpMethodName(), uri, e.toString());
            return null;
        } finally {
            if (ch != null) {
                ch.close();
            }
            if (r != null) {
                r.release();
            } else {
                // a response that arrives after we gave up is released when it comes
                answer.thenAccept(FullHttpResponse::release);
            }
        }
    }

    private FullHttpRequest toNetty(StreamRequestMessage message, URI uri) {
        byte[] body = message.hasBody() ? message.getBodyBytes() : new byte[0];
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1,
                HttpMethod.valueOf(message.getOperation().getHttpMethodName()), path, Unpooled.wrappedBuffer(body));
        for (Map.Entry<String, List<String>> h : message.getHeaders().entrySet()) {
            req.headers().add(h.getKey(), h.getValue());
        }
        req.headers().set(HttpHeaderNames.HOST, uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : ""));
        if (!req.headers().contains(HttpHeaderNames.USER_AGENT)) {
            req.headers().set(HttpHeaderNames.USER_AGENT, config.getUserAgentValue(
                    message.getUdaMajorVersion(), message.getUdaMinorVersion()));
        }
        req.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
        req.headers().set(HttpHeaderNames.CONNECTION, "close");
        return req;
    }

    private static StreamResponseMessage toJupnp(FullHttpResponse r) {
        StreamResponseMessage msg = new StreamResponseMessage(new UpnpResponse(r.status().code(), r.status().reasonPhrase()));
        UpnpHeaders headers = new UpnpHeaders();
        for (Map.Entry<String, String> h : new ArrayList<>(r.headers().entries())) {
            headers.add(h.getKey(), h.getValue());
        }
        msg.setHeaders(headers);
        if (r.content().isReadable()) {
            msg.setBodyCharacters(ByteBufUtil.getBytes(r.content()));
        }
        return msg;
    }

    @Override
    public void stop() {
        // the event loop group belongs to the IgdServer
    }

    @Override
    public Config getConfiguration() {
        return config;
    }
}
