package io.natgw.testsupport;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.opentest4j.TestAbortedException;

import java.lang.reflect.Method;

/**
 * A prerequisite checked in {@code @BeforeAll} (a missing tool, not root …) skips each test of the class with
 * its reason, instead of aborting the class: an aborted class shows as "Tests run: 0" in surefire's reports,
 * and its tests vanish from the counts. The {@code @BeforeAll} method's {@link TestAbortedException} is kept
 * as the class's skip reason, the class's remaining {@code @BeforeAll} methods are not run, and every test
 * of the class is disabled with that reason. Other failures are untouched: under {@code NATGW_REQUIRE_ALL=1}
 * a missing prerequisite throws an AssertionError and still fails the class.
 *
 * <p>Registered for every test class through Jupiter's extension auto-detection (the root pom turns it on).
 */
public final class BeforeAllSkips implements InvocationInterceptor, ExecutionCondition {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(BeforeAllSkips.class);
    private static final String KEY = "skipped in @BeforeAll";

    @Override
    public void interceptBeforeAllMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> call,
            ExtensionContext context) throws Throwable {
        if (reason(context) != null) {
            invocation.skip();
            return;
        }
        try {
            invocation.proceed();
        } catch (TestAbortedException e) {
            String why = SkipRecorder.oneLine(e.getMessage());
            context.getStore(NS).put(KEY, why + " (checked in " + call.getExecutable().getName() + "())");
        }
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (context.getTestMethod().isEmpty()) {
            return ConditionEvaluationResult.enabled("the class runs; its tests are checked one by one");
        }
        String why = reason(context);
        return why == null ? ConditionEvaluationResult.enabled("no prerequisite missing") : ConditionEvaluationResult.disabled(why);
    }

    private static String reason(ExtensionContext context) {
        return context.getStore(NS).get(KEY, String.class);
    }
}
