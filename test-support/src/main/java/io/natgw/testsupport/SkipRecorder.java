package io.natgw.testsupport;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestSource;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Writes every test that did not run, with its reason, to {@code target/natgw-skips/} under the reactor root
 * (one file per test JVM, one line per test: {@code class TAB test TAB reason}), for {@link SkipSummary}.
 * A test counts as not run when it was skipped (a disabled condition) or aborted (a failed assumption); a
 * skipped or aborted class counts each of its tests. Registered through ServiceLoader, so it listens to
 * every surefire run of every module that has this jar on its test classpath.
 */
public final class SkipRecorder implements TestExecutionListener {

    /** The directory under the reactor root where the skips of one build are collected. */
    public static final String DIRECTORY = "target/natgw-skips";

    private final List<String> lines = new ArrayList<>();
    private TestPlan plan;

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
        plan = testPlan;
    }

    @Override
    public void executionSkipped(TestIdentifier id, String reason) {
        record(id, reason);
    }

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
            record(id, result.getThrowable().map(Throwable::getMessage).orElse(null));
        }
    }

    private synchronized void record(TestIdentifier id, String reason) {
        String why = oneLine(reason);
        if (id.isTest()) {
            lines.add(className(id) + "\t" + id.getDisplayName() + "\t" + why);
            return;
        }
        // A container that did not run: each of its tests, so the count is the number of tests lost.
        List<TestIdentifier> tests = plan == null ? List.of()
                : plan.getDescendants(id).stream().filter(TestIdentifier::isTest).toList();
        if (tests.isEmpty() && id.getSource().isPresent()) {
            lines.add(className(id) + "\t" + id.getDisplayName() + "\t" + why);
        }
        for (TestIdentifier t : tests) {
            lines.add(className(t) + "\t" + t.getDisplayName() + "\t" + why);
        }
    }

    @Override
    public synchronized void testPlanExecutionFinished(TestPlan testPlan) {
        if (lines.isEmpty()) {
            return;
        }
        Optional<Path> root = reactorRoot();
        if (root.isEmpty()) {
            return;
        }
        try {
            Path dir = Files.createDirectories(root.get().resolve(DIRECTORY));
            Path file = dir.resolve("skips-" + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".tsv");
            Files.write(file, lines, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record the skipped tests under " + root.get(), e);
        }
        lines.clear();
    }

    /** {@code NATGW_REPO}, which the root pom gives every test JVM, else the {@code natgw.repo} property. */
    static Optional<Path> reactorRoot() {
        String r = System.getenv("NATGW_REPO");
        if (r == null || r.isBlank()) {
            r = System.getProperty("natgw.repo");
        }
        return r == null || r.isBlank() ? Optional.empty() : Optional.of(Path.of(r));
    }

    private String className(TestIdentifier id) {
        for (Optional<TestIdentifier> cur = Optional.of(id); cur.isPresent();
                cur = plan == null ? Optional.empty() : plan.getParent(cur.get())) {
            Optional<TestSource> source = cur.get().getSource();
            if (source.isPresent() && source.get() instanceof MethodSource m) {
                return m.getClassName();
            }
            if (source.isPresent() && source.get() instanceof ClassSource c) {
                return c.getClassName();
            }
        }
        return id.getUniqueId();
    }

    static String oneLine(String reason) {
        if (reason == null || reason.isBlank()) {
            return "no reason given";
        }
        String s = reason.replaceAll("\\s+", " ").trim();
        return s.startsWith("Assumption failed: ") ? s.substring("Assumption failed: ".length()) : s;
    }
}
