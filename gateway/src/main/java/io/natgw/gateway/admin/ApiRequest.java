package io.natgw.gateway.admin;

import io.netty.handler.codec.http.HttpMethod;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;

/** An authenticated API request, copied out of Netty's buffers at the edge. */
record ApiRequest(HttpMethod method, String path, Map<String, List<String>> query, byte[] body, InetAddress client) {

    ApiRequest {
        query = Map.copyOf(query);
        body = body == null ? new byte[0] : body;
    }

    String param(String name) {
        List<String> v = query.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }
}
