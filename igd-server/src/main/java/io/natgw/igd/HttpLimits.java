package io.natgw.igd;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses what the codec could not parse (400) and heads with too many headers (431), before any body is
 * aggregated. Once refused, the connection drops everything else it sends and is closed.
 */
final class HttpLimits extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(HttpLimits.class);

    private final int maxHeaders;
    private boolean refused;

    HttpLimits(int maxHeaders) {
        this.maxHeaders = maxHeaders;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpObject o && o.decoderResult().isFailure()) {
            refuse(ctx, msg, HttpResponseStatus.BAD_REQUEST, o.decoderResult().cause().getMessage());
            return;
        }
        if (msg instanceof HttpRequest r && r.headers().size() > maxHeaders) {
            refuse(ctx, msg, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, r.headers().size() + " headers");
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private void refuse(ChannelHandlerContext ctx, Object msg, HttpResponseStatus status, String why) {
        refused = true;
        ReferenceCountUtil.release(msg);
        LOG.debug("refused HTTP request from {}: {} ({})", ctx.channel().remoteAddress(), status.code(), why);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0).set(HttpHeaderNames.CONNECTION, "close");
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
