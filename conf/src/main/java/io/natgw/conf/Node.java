package io.natgw.conf;

import java.util.List;
import java.util.Map;

/** A parsed YAML (or JSON-like) document that remembers where each value came from. */
sealed interface Node {

    Loc loc();

    /** 1-based line and column; {@link #NONE} when the input was not text. */
    record Loc(int line, int column) {
        static final Loc NONE = new Loc(0, 0);
    }

    enum ScalarType { STRING, INTEGER, DECIMAL, BOOLEAN, NULL }

    /**
     * @param text  the value as written (for messages and for text-typed keys)
     * @param value a {@code String}, {@code BigInteger}, {@code BigDecimal}, {@code Boolean} or null
     */
    record Scalar(ScalarType type, String text, Object value, Loc loc) implements Node {
        /** No value at all: {@code key:} or {@code key: ~}. */
        boolean isBlank() {
            return type == ScalarType.NULL || (type == ScalarType.STRING && text.isEmpty());
        }
    }

    record Entry(Loc keyLoc, Node value) {
    }

    /** Keys in file order. */
    record Mapping(Map<String, Entry> entries, Loc loc) implements Node {
        public Mapping {
            entries = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(entries));
        }
    }

    record Sequence(List<Node> items, Loc loc) implements Node {
        public Sequence {
            items = List.copyOf(items);
        }
    }

    /** What a value is, for "is a list, not a number"-style messages. */
    static String describe(Node node) {
        if (node instanceof Mapping) {
            return "a mapping";
        }
        if (node instanceof Sequence) {
            return "a list";
        }
        return "'" + ((Scalar) node).text() + "'";
    }
}
