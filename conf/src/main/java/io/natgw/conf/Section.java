package io.natgw.conf;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * One YAML mapping being turned into a record. Each accessor takes the key and its default (used when the key
 * is absent), reports a wrong value to {@link Problems} with the key path, the bad value and what is accepted,
 * and then returns the default so reading can go on and find the other errors. Keys never asked for are
 * reported as unknown when the read is finished.
 */
final class Section {

    /** A {@code max} meaning "no upper bound but int's", for "N or more" messages. */
    static final long UNBOUNDED = Integer.MAX_VALUE;

    private final Problems problems;
    private final String path;
    private final String genericPath;
    private final Node.Loc loc;
    private final Map<String, Node.Entry> entries;
    private final Set<String> known = new LinkedHashSet<>();

    private Section(Problems problems, String path, String genericPath, Node.Loc loc, Map<String, Node.Entry> entries) {
        this.problems = problems;
        this.path = path;
        this.genericPath = genericPath;
        this.loc = loc;
        this.entries = entries;
        problems.opened(this);
    }

    /** The document's root; a root that is not a mapping is reported and read as empty. */
    static Section root(Problems problems, Node root) {
        if (root instanceof Node.Mapping m) {
            return new Section(problems, "", "", m.loc(), m.entries());
        }
        if (!(root instanceof Node.Scalar s && s.isBlank())) {
            problems.add(root.loc(), "the document is " + Node.describe(root)
                    + " (accepted: a mapping of keys such as 'network:', 'pcp:', 'upnp:')");
        }
        return new Section(problems, "", "", root.loc(), Map.of());
    }

    Node.Loc loc() {
        return loc;
    }

    String path() {
        return path;
    }

    /** Where a key's value is, or this mapping's start when it is absent. */
    Node.Loc loc(String key) {
        Node.Entry e = entries.get(key);
        return e == null ? loc : e.value().loc();
    }

    boolean has(String key) {
        return entries.containsKey(key);
    }

    /** Reports a problem with a key's value: {@code path.key: message}. */
    void error(String key, String message) {
        problems.add(loc(key), pathOf(key) + ": " + message);
    }

    /** Reports a problem with this whole mapping: {@code path: message}. */
    void error(String message) {
        problems.add(loc, (path.isEmpty() ? "" : path + ": ") + message);
    }

    String pathOf(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** The path with list indexes left out: {@code triggers[].name}. */
    private String genericOf(String key) {
        return genericPath.isEmpty() ? key : genericPath + "." + key;
    }

    private Optional<Node> value(String key) {
        known.add(key);
        problems.keyRead(genericOf(key));
        Node.Entry e = entries.get(key);
        return e == null ? Optional.empty() : Optional.of(e.value());
    }

    /** A key that must be present; reports it missing and returns empty otherwise. */
    Optional<Node> required(String key, String accepted) {
        Optional<Node> v = value(key);
        if (v.isEmpty()) {
            error("missing key '" + key + "' (accepted: " + accepted + ")");
        }
        return v;
    }

    // ---- nested mappings and lists of mappings

    Section section(String key) {
        Optional<Node> v = value(key);
        String p = pathOf(key);
        String g = genericOf(key);
        if (v.isPresent() && v.get() instanceof Node.Mapping m) {
            return new Section(problems, p, g, m.loc(), m.entries());
        }
        if (v.isPresent() && !(v.get() instanceof Node.Scalar s && s.isBlank())) {
            error(key, Node.describe(v.get()) + " is not a mapping (accepted: keys indented under '" + key + ":')");
        }
        return new Section(problems, p, g, loc(key), Map.of());
    }

    /** A list of mappings (static mappings, triggers); absent or empty is an empty list. */
    List<Section> sections(String key) {
        List<Section> out = new ArrayList<>();
        String g = genericOf(key) + "[]";
        List<Node> items = items(key, "a list of mappings, one per '-' item");
        for (int i = 0; i < items.size(); i++) {
            Node item = items.get(i);
            String p = pathOf(key) + "[" + i + "]";
            if (item instanceof Node.Mapping m) {
                out.add(new Section(problems, p, g, m.loc(), m.entries()));
            } else {
                problems.add(item.loc(), p + ": " + Node.describe(item) + " is not a mapping (accepted: keys and values,"
                        + " e.g. '- { name: x, ... }')");
            }
        }
        return out;
    }

    private List<Node> items(String key, String accepted) {
        Optional<Node> v = value(key);
        if (v.isEmpty() || (v.get() instanceof Node.Scalar s && s.isBlank())) {
            return List.of();
        }
        if (v.get() instanceof Node.Sequence seq) {
            return seq.items();
        }
        error(key, Node.describe(v.get()) + " is not a list (accepted: " + accepted + ")");
        return List.of();
    }

    // ---- scalars

    boolean bool(String key, boolean dflt) {
        Optional<Node> v = value(key);
        if (v.isEmpty()) {
            return dflt;
        }
        if (v.get() instanceof Node.Scalar s && s.type() == Node.ScalarType.BOOLEAN) {
            return (Boolean) s.value();
        }
        error(key, isBlank(v.get()) ? "no value (accepted: true, false)"
                : Node.describe(v.get()) + " is not a boolean (accepted: true, false)");
        return dflt;
    }

    int integer(String key, int dflt, long min, long max) {
        return (int) longValue(key, dflt, min, max, "");
    }

    /** A port: 1-65535 for the gateway's own services. */
    int port(String key, int dflt) {
        return integer(key, dflt, 1, 65535);
    }

    /** Durations are integer seconds. */
    Duration seconds(String key, long dflt, long min, long max) {
        return Duration.ofSeconds(longValue(key, dflt, min, max, min == 1 && max == UNBOUNDED ? " second" : " seconds"));
    }

    long longValue(String key, long dflt, long min, long max, String unit) {
        Optional<Node> v = value(key);
        if (v.isEmpty()) {
            return dflt;
        }
        String accepted = "accepted: " + (max == UNBOUNDED ? min + unit + " or more" : min + "-" + max + unit);
        if (!(v.get() instanceof Node.Scalar s) || s.type() != Node.ScalarType.INTEGER) {
            String bad = Node.describe(v.get());
            if (isBlank(v.get())) {
                error(key, "no value (" + accepted + ")");
            } else if (v.get() instanceof Node.Scalar s && s.type() == Node.ScalarType.STRING && s.text().matches("\\d+")) {
                error(key, bad + " is quoted text, not an integer (" + accepted + ", without quotes)");
            } else {
                error(key, bad + " is not an integer (" + accepted + ")");
            }
            return dflt;
        }
        BigInteger n = (BigInteger) s.value();
        if (n.compareTo(BigInteger.valueOf(min)) < 0 || n.compareTo(BigInteger.valueOf(max)) > 0) {
            error(key, s.text() + " is out of range (" + accepted + ")");
            return dflt;
        }
        return n.longValueExact();
    }

    /** Any scalar, as written; absent or {@code ~} gives the default. */
    String text(String key, String dflt) {
        Optional<Node> v = value(key);
        if (v.isEmpty() || (v.get() instanceof Node.Scalar s && s.type() == Node.ScalarType.NULL)) {
            return dflt;
        }
        if (v.get() instanceof Node.Scalar s) {
            return s.text();
        }
        error(key, Node.describe(v.get()) + " is not text (accepted: a single value, e.g. \"" + dflt + "\")");
        return dflt;
    }

    /**
     * A value in a syntax of its own (address, CIDR, port ranges…): {@code parser} throws
     * {@link IllegalArgumentException} whose message names the bad value and what is accepted.
     */
    <T> T parsed(String key, T dflt, Function<String, T> parser) {
        Optional<Node> v = value(key);
        if (v.isEmpty()) {
            return dflt;
        }
        return parse(v.get(), pathOf(key), dflt, parser);
    }

    /**
     * A list of values in a syntax of their own. Absent gives {@code dflt}; a list with a bad item also gives
     * {@code dflt} (after reporting the item). {@code emptyError}, when not null, is reported for an empty list.
     */
    <T> List<T> list(String key, List<T> dflt, Function<String, T> parser, String example, String emptyError) {
        if (!entries.containsKey(key)) {
            value(key);
            return dflt;
        }
        int before = problems.count();
        List<Node> items = items(key, "a list such as " + example);
        if (items.isEmpty() && emptyError != null && problems.count() == before) {
            error(key, emptyError);
        }
        List<T> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            out.add(parse(items.get(i), pathOf(key) + "[" + i + "]", null, parser));
        }
        return problems.count() == before ? out : dflt;
    }

    private <T> T parse(Node node, String where, T dflt, Function<String, T> parser) {
        if (!(node instanceof Node.Scalar s)) {
            problems.add(node.loc(), where + ": " + Node.describe(node) + " is not a single value");
            return dflt;
        }
        try {
            return parser.apply(s.text());
        } catch (IllegalArgumentException e) {
            problems.add(node.loc(), where + ": " + e.getMessage());
            return dflt;
        }
    }

    /** One of a few words, in any case: {@code choices} maps each accepted word to its value. */
    <E> E choice(String key, E dflt, Map<String, E> choices) {
        return parsed(key, dflt, text -> {
            E e = choices.get(text.trim().toLowerCase(Locale.ROOT));
            if (e == null) {
                throw new IllegalArgumentException("'" + text + "' is not one of the choices (accepted: "
                        + String.join(", ", choices.keySet()) + ")");
            }
            return e;
        });
    }

    private static boolean isBlank(Node node) {
        return node instanceof Node.Scalar s && s.isBlank();
    }

    // ---- unknown keys

    void reportUnknownKeys() {
        entries.forEach((key, entry) -> {
            if (!known.contains(key)) {
                problems.add(entry.keyLoc(), pathOf(key) + ": unknown key" + suggestion(key)
                        + " (accepted: " + String.join(", ", known) + ")");
            }
        });
    }

    private String suggestion(String key) {
        String best = null;
        int bestDistance = 3;
        for (String k : known) {
            int d = distance(key.toLowerCase(Locale.ROOT), k.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return best == null ? "" : ", did you mean '" + best + "'?";
    }

    /** Levenshtein distance, for "did you mean" hints. */
    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
