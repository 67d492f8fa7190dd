package io.natgw.gateway.admin;

import io.netty.handler.codec.http.HttpResponseStatus;

/** What the API answers: a status and a body of a content type. */
record ApiResponse(HttpResponseStatus status, String contentType, byte[] body) {

    static final String JSON = "application/json; charset=utf-8";

    static ApiResponse json(HttpResponseStatus status, Object value) {
        return new ApiResponse(status, JSON, Json.write(value));
    }

    static ApiResponse ok(Object value) {
        return json(HttpResponseStatus.OK, value);
    }

    static ApiResponse error(ApiException e) {
        return json(e.status(), e.body());
    }
}
