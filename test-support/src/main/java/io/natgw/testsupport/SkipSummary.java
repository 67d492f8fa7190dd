package io.natgw.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The last line of {@code mvn -B verify}: every test class with skipped tests, how many and why, or that none
 * was skipped. Reads what {@link SkipRecorder} wrote under {@code target/natgw-skips/} during this build.
 *
 * <pre>
 * natgw: 14 tests skipped: io.natgw.it.igd.UpnpcE2eTest (8: 'upnpc' is not installed ...); io.natgw.it.admin.AdminWebUiTest (6: ...)
 * natgw: no test was skipped
 * </pre>
 */
public final class SkipSummary {

    private SkipSummary() {
    }

    /** {@code args[0]}: the reactor root (default: {@code NATGW_REPO}, else the working directory). */
    public static void main(String[] args) throws IOException {
        Path root = args.length > 0 ? Path.of(args[0])
                : SkipRecorder.reactorRoot().orElse(Path.of("").toAbsolutePath());
        System.out.println(summary(root.resolve(SkipRecorder.DIRECTORY)));
    }

    static String summary(Path dir) throws IOException {
        List<String> lines = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".tsv")).sorted().toList()) {
                    lines.addAll(Files.readAllLines(f, StandardCharsets.UTF_8));
                }
            }
        }
        // class -> reason -> count
        Map<String, Map<String, Integer>> byClass = new TreeMap<>();
        int total = 0;
        for (String line : lines) {
            String[] f = line.split("\t", 3);
            if (f.length < 3) {
                continue;
            }
            byClass.computeIfAbsent(f[0], k -> new TreeMap<>()).merge(f[2], 1, Integer::sum);
            total++;
        }
        if (total == 0) {
            return "natgw: no test was skipped";
        }
        StringBuilder sb = new StringBuilder("natgw: ").append(total).append(total == 1 ? " test" : " tests").append(" skipped: ");
        String sep = "";
        for (Map.Entry<String, Map<String, Integer>> c : byClass.entrySet()) {
            for (Map.Entry<String, Integer> r : c.getValue().entrySet()) {
                sb.append(sep).append(c.getKey()).append(" (").append(r.getValue()).append(": ").append(r.getKey()).append(')');
                sep = "; ";
            }
        }
        return sb.toString();
    }
}
