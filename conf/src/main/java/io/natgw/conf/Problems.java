package io.natgw.conf;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** The errors found while reading one configuration, and the sections opened (to report their unknown keys). */
final class Problems {

    private final Path file;
    private final List<ConfigError> errors = new ArrayList<>();
    private final List<Section> sections = new ArrayList<>();
    private final Set<String> keysRead = new TreeSet<>();

    Problems(Path file) {
        this.file = file;
    }

    void add(Node.Loc at, String message) {
        errors.add(new ConfigError(file, at.line(), at.column(), message));
    }

    int count() {
        return errors.size();
    }

    void opened(Section section) {
        sections.add(section);
    }

    void keyRead(String genericPath) {
        keysRead.add(genericPath);
    }

    /** Every key path the reader asked for, list indexes written {@code []} (e.g. {@code triggers[].name}). */
    Set<String> keysRead() {
        return Set.copyOf(keysRead);
    }

    /** Reports unknown keys of every section, then throws when anything was wrong (errors in file order). */
    void finish() throws ConfigException {
        for (Section s : sections) {
            s.reportUnknownKeys();
        }
        if (!errors.isEmpty()) {
            List<ConfigError> sorted = new ArrayList<>(errors);
            sorted.sort(Comparator.comparingInt(ConfigError::line).thenComparingInt(ConfigError::column));
            throw new ConfigException(sorted);
        }
    }
}
