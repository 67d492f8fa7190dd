package io.natgw.igd;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.ReferenceCountUtil;

/**
 * Refuses what the codec could not parse (400) and heads with too many headers (431), before any body is
 * aggregated. The refusal is not written here: it goes down the pipeline as a {@link Refused} message, so
 * that {@link UpnpHttpHandler} answers it in its place after the requests pipelined before it. Once refused,
 * the connection drops everything else it sends and is closed.
 */
final class HttpLimits extends ChannelInboundHandlerAdapter {

    /** A request refused before it was complete; answered in order by {@link UpnpHttpHandler}. */
    record Refused(HttpResponseStatus status, String why) {
    }

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
        ctx.fireChannelRead(new Refused(status, why));
    }

    /** The aggregator for one request: an oversized body becomes a {@link Refused} 413, answered in order. */
    static final class Aggregator extends HttpObjectAggregator {
        Aggregator(int maxContentLength) {
            super(maxContentLength);
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            ctx.fireChannelRead(new Refused(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                    "body over " + maxContentLength() + " bytes"));
        }
    }
}
