package io.natgw.igd;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.jupnp.model.message.Connection;
import org.jupnp.model.message.StreamRequestMessage;
import org.jupnp.model.message.StreamResponseMessage;
import org.jupnp.model.message.UpnpHeaders;
import org.jupnp.model.message.UpnpMessage;
import org.jupnp.model.message.UpnpResponse;
import org.jupnp.model.message.control.OutgoingActionResponseMessage;
import org.jupnp.protocol.ProtocolFactory;
import org.jupnp.transport.spi.UpnpStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;

/**
 * Runs one {@link HttpExchange} on a worker thread, as the {@link SoapShortcut.Call} it was read as, else through
 * jupnp's protocols, and writes the answer to the channel.
 */
final class NettyUpnpStream extends UpnpStream {

    private static final Logger LOG = LoggerFactory.getLogger(NettyUpnpStream.class);

    /** The headers jupnp puts on every action answer (content type, server, EXT). */
    private static final UpnpHeaders ACTION_HEADERS = new OutgoingActionResponseMessage(UpnpResponse.Status.OK).getHeaders();

    private final SoapShortcut.Call call;
    private final HttpExchange exchange;
    private final Runnable written;

    /** @param call {@code exchange} as {@link SoapShortcut} took it, or {@code null} for jupnp's protocols */
    NettyUpnpStream(ProtocolFactory protocolFactory, SoapShortcut.Call call, HttpExchange exchange, Runnable written) {
        super(protocolFactory);
        this.call = call;
        this.exchange = exchange;
        this.written = written;
    }

    @Override
    public void run() {
        StreamResponseMessage response;
        try {
            if (call != null) {
                write(toNetty(call.answer()), null);
                return;
            }
            response = process(request());
        } catch (RuntimeException e) {
            LOG.warn("UPnP {} {} from {} failed: {}", exchange.method().getHttpName(), exchange.uri(),
                    exchange.remote().getHostAddress(), e.toString());
            responseException(e);
            write(status(500), null);
            return;
        }
        write(response == null ? status(404) : toNetty(response), response);
    }

    private StreamRequestMessage request() {
        StreamRequestMessage msg = new StreamRequestMessage(exchange.method(), exchange.uri());
        msg.getOperation().setHttpMinorVersion(exchange.httpMinorVersion());
        msg.setConnection(new ChannelConnection(exchange));
        UpnpHeaders headers = new UpnpHeaders();
        for (Map.Entry<String, String> h : exchange.headers()) {
            headers.add(h.getKey(), h.getValue());
        }
        msg.setHeaders(headers);
        byte[] body = exchange.body();
        if (body.length > 0) {
            if (msg.isContentTypeMissingOrText()) {
                msg.setBodyCharacters(body);
            } else {
                msg.setBody(UpnpMessage.BodyType.BYTES, body);
            }
        }
        return msg;
    }

    private static FullHttpResponse toNetty(StreamResponseMessage r) {
        return response(r.getOperation().getStatusCode(), r.getOperation().getStatusMessage(),
                r.hasBody() ? r.getBodyBytes() : new byte[0], r.getHeaders());
    }

    static FullHttpResponse toNetty(SoapShortcut.Answer a) {
        return response(a.status(), a.reason(), a.body(), ACTION_HEADERS);
    }

    private static FullHttpResponse response(int status, String reason, byte[] body, Map<String, List<String>> headers) {
        FullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, new HttpResponseStatus(status, reason),
                Unpooled.wrappedBuffer(body));
        for (Map.Entry<String, List<String>> h : headers.entrySet()) {
            out.headers().add(h.getKey(), h.getValue());
        }
        out.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return out;
    }

    static FullHttpResponse status(int code) {
        FullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code),
                Unpooled.EMPTY_BUFFER);
        out.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
        return out;
    }

    private void write(FullHttpResponse response, StreamResponseMessage sent) {
        if (!exchange.keepAlive()) {
            response.headers().set(HttpHeaderNames.CONNECTION, "close");
        }
        ChannelFuture f = exchange.channel().writeAndFlush(response);
        f.addListener(done -> {
            if (done.isSuccess()) {
                responseSent(sent);
            } else {
                responseException(done.cause());
            }
        });
        if (exchange.keepAlive()) {
            f.addListener(done -> written.run());
        } else {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** What jupnp's RemoteClientInfo reports: the caller's and our address on this connection. */
    private record ChannelConnection(HttpExchange exchange) implements Connection {
        @Override
        public boolean isOpen() {
            return exchange.channel().isActive();
        }

        @Override
        public InetAddress getRemoteAddress() {
            return exchange.remote();
        }

        @Override
        public InetAddress getLocalAddress() {
            return exchange.local();
        }
    }
}
