package io.natgw.gateway.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * JSON in and out of the API. Input is read as a tree and checked field by field, so an unknown field,
 * a wrong type or a value out of range is named in the answer instead of failing somewhere deeper.
 */
final class Json {

    static final ObjectMapper MAPPER = new ObjectMapper()
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private Json() {
    }

    static byte[] write(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String writeString(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses a request body that must be one JSON object with only {@code accepted} fields. */
    static ObjectNode object(byte[] body, Set<String> accepted) throws ApiException {
        JsonNode node;
        try {
            node = MAPPER.readTree(body);
        } catch (java.io.IOException e) {
            String msg = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
            throw ApiException.badField(null, "malformed JSON: " + msg, "a JSON object");
        }
        if (node == null || node.isMissingNode() || !node.isObject()) {
            throw ApiException.badField(null, "the body is not a JSON object", "a JSON object with fields " + sorted(accepted));
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!accepted.contains(f)) {
                throw ApiException.badField(f, "unknown field '" + f + "'", "fields " + sorted(accepted));
            }
        }
        return (ObjectNode) node;
    }

    static String text(ObjectNode o, String field, boolean required, String accepted) throws ApiException {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            if (required) {
                throw ApiException.badField(field, "'" + field + "' is missing", accepted);
            }
            return null;
        }
        if (!n.isTextual()) {
            throw ApiException.badField(field, "'" + field + "' is " + n + ", not a string", accepted);
        }
        return n.textValue();
    }

    static int port(ObjectNode o, String field, int min, boolean required, int fallback) throws ApiException {
        JsonNode n = o.get(field);
        String accepted = "an integer " + min + "-65535";
        if (n == null || n.isNull()) {
            if (required) {
                throw ApiException.badField(field, "'" + field + "' is missing", accepted);
            }
            return fallback;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < min || n.intValue() > 65535) {
            throw ApiException.badField(field, "'" + field + "' " + n + " is out of range", accepted);
        }
        return n.intValue();
    }

    static boolean bool(ObjectNode o, String field, boolean fallback) throws ApiException {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isBoolean()) {
            throw ApiException.badField(field, "'" + field + "' is " + n + ", not a boolean", "true or false");
        }
        return n.booleanValue();
    }

    private static String sorted(Set<String> fields) {
        return String.join(", ", List.copyOf(new java.util.TreeSet<>(fields)));
    }
}
