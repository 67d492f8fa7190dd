package io.natgw.gateway.admin;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * A request the API rejects, answered as {@code {"error": ..., "field": ..., "accepted": ...}} with a 4xx
 * status. Thrown before anything is applied, so nothing is half-applied. Never logged with a stack trace.
 */
final class ApiException extends Exception {

    private static final long serialVersionUID = 1L;

    private final transient HttpResponseStatus status;
    private final String field;
    private final String accepted;

    ApiException(HttpResponseStatus status, String message, String field, String accepted) {
        super(message, null, false, false);
        this.status = status;
        this.field = field;
        this.accepted = accepted;
    }

    static ApiException badField(String field, String message, String accepted) {
        return new ApiException(HttpResponseStatus.BAD_REQUEST, message, field, accepted);
    }

    static ApiException notFound(String message) {
        return new ApiException(HttpResponseStatus.NOT_FOUND, message, null, null);
    }

    HttpResponseStatus status() {
        return status;
    }

    ErrorBody body() {
        return new ErrorBody(getMessage(), field, accepted);
    }

    /** The JSON body of every 4xx answer. */
    record ErrorBody(String error, String field, String accepted) {
    }
}
