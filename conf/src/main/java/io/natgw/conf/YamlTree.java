package io.natgw.conf;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads YAML text into a {@link Node} tree by walking Jackson's YAML token stream, keeping each value's line
 * and column; also turns decoded JSON ({@code Map}/{@code List}/scalars) into the same tree, without locations.
 */
final class YamlTree {

    private static final YAMLFactory FACTORY = YAMLFactory.builder().build();

    private YamlTree() {
    }

    /** The document's root, or null after a syntax error (reported to {@code problems}). */
    static Node parse(String yaml, Problems problems) {
        try (JsonParser parser = FACTORY.createParser(yaml)) {
            if (parser.nextToken() == null) {
                return new Node.Mapping(Map.of(), new Node.Loc(1, 1)); // an empty file: all defaults
            }
            Node root = read(parser, "", problems);
            if (parser.nextToken() != null) {
                problems.add(loc(parser), "a second YAML document (accepted: one document; remove the '---' line)");
            }
            return root;
        } catch (StreamReadException e) {
            problems.add(syntaxErrorLoc(e), "YAML syntax error: " + syntaxErrorMessage(e));
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException("reading YAML from a string", e);
        }
    }

    /** @param path the key path of the value at the current token, for messages ({@code pcp.port}, {@code triggers[0]}) */
    private static Node read(JsonParser p, String path, Problems problems) throws IOException {
        Node.Loc at = loc(p);
        JsonToken token = p.currentToken();
        switch (token) {
            case START_OBJECT: {
                Map<String, Node.Entry> entries = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    Node.Loc keyLoc = loc(p);
                    p.nextToken();
                    String keyPath = path.isEmpty() ? key : path + "." + key;
                    Node value = read(p, keyPath, problems);
                    Node.Entry first = entries.putIfAbsent(key, new Node.Entry(keyLoc, value));
                    if (first != null) {
                        problems.add(keyLoc, keyPath + ": duplicate key (accepted: each key once; the first is at line "
                                + first.keyLoc().line() + ")");
                    }
                }
                return new Node.Mapping(entries, at);
            }
            case START_ARRAY: {
                List<Node> items = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    items.add(read(p, path + "[" + items.size() + "]", problems));
                }
                return new Node.Sequence(items, at);
            }
            default:
                if (p instanceof YAMLParser yaml && yaml.isCurrentAlias()) {
                    problems.add(at, (path.isEmpty() ? "" : path + ": ") + "YAML alias '*" + p.getText()
                            + "' (accepted: the value written out; aliases are not supported)");
                }
                return scalar(p, token, at);
        }
    }

    private static Node.Scalar scalar(JsonParser p, JsonToken token, Node.Loc at) throws IOException {
        String text = p.getText();
        switch (token) {
            case VALUE_NUMBER_INT:
                return new Node.Scalar(Node.ScalarType.INTEGER, text, p.getBigIntegerValue(), at);
            case VALUE_NUMBER_FLOAT:
                return new Node.Scalar(Node.ScalarType.DECIMAL, text, p.getDecimalValue(), at);
            case VALUE_TRUE:
            case VALUE_FALSE:
                return new Node.Scalar(Node.ScalarType.BOOLEAN, text, token == JsonToken.VALUE_TRUE, at);
            case VALUE_NULL:
                return new Node.Scalar(Node.ScalarType.NULL, "", null, at);
            default:
                return new Node.Scalar(Node.ScalarType.STRING, text == null ? "" : text, text, at);
        }
    }

    private static Node.Loc loc(JsonParser p) {
        JsonLocation l = p.currentTokenLocation();
        return new Node.Loc(l.getLineNr(), l.getColumnNr());
    }

    private static Node.Loc syntaxErrorLoc(StreamReadException e) {
        if (e.getCause() instanceof MarkedYAMLException marked && marked.getProblemMark() != null) {
            Mark m = marked.getProblemMark();
            return new Node.Loc(m.getLine() + 1, m.getColumn() + 1);
        }
        JsonLocation l = e.getLocation();
        return l == null ? new Node.Loc(1, 1) : new Node.Loc(l.getLineNr(), l.getColumnNr());
    }

    private static String syntaxErrorMessage(StreamReadException e) {
        if (e.getCause() instanceof MarkedYAMLException marked) {
            String problem = marked.getProblem() == null ? "" : marked.getProblem().trim();
            Mark ctx = marked.getContextMark();
            if (marked.getContext() != null && ctx != null) {
                problem += " (" + marked.getContext().trim() + " that starts at line " + (ctx.getLine() + 1)
                        + ", column " + (ctx.getColumn() + 1) + ")";
            }
            return problem.replace("\n", " ");
        }
        String msg = e.getOriginalMessage();
        return msg == null ? "unreadable YAML" : msg.lines().findFirst().orElse(msg);
    }

    /** Decoded JSON (maps, lists, strings, numbers, booleans, null) as a tree without locations. */
    static Node fromJava(Object value) {
        Node.Loc none = Node.Loc.NONE;
        if (value instanceof Map<?, ?> map) {
            Map<String, Node.Entry> entries = new LinkedHashMap<>();
            map.forEach((k, v) -> entries.put(String.valueOf(k), new Node.Entry(none, fromJava(v))));
            return new Node.Mapping(entries, none);
        }
        if (value instanceof List<?> list) {
            List<Node> items = new ArrayList<>();
            list.forEach(v -> items.add(fromJava(v)));
            return new Node.Sequence(items, none);
        }
        if (value == null) {
            return new Node.Scalar(Node.ScalarType.NULL, "", null, none);
        }
        if (value instanceof Boolean b) {
            return new Node.Scalar(Node.ScalarType.BOOLEAN, b.toString(), b, none);
        }
        if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte
                || value instanceof BigInteger) {
            return new Node.Scalar(Node.ScalarType.INTEGER, value.toString(), new BigInteger(value.toString()), none);
        }
        if (value instanceof Number n) {
            try {
                return new Node.Scalar(Node.ScalarType.DECIMAL, n.toString(), new BigDecimal(n.toString()), none);
            } catch (NumberFormatException notFinite) { // NaN, Infinity: reported as text that is no number
                return new Node.Scalar(Node.ScalarType.STRING, n.toString(), n.toString(), none);
            }
        }
        return new Node.Scalar(Node.ScalarType.STRING, value.toString(), value.toString(), none);
    }
}
