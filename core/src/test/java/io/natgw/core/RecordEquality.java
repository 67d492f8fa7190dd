package io.natgw.core;

import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Checks a record whose equals and hashCode are written out (the generated ones are slow under C1) against the
 * record's own definition of equality: a copy made from its components is equal with the same hash, and each given
 * pair differing in exactly one component is unequal; the pairs together must cover every component, so a
 * component the written-out equals forgets fails. Shared with other modules' tests through core's test-jar.
 */
public final class RecordEquality {

    private RecordEquality() {
    }

    /** {@code pairs}: a base and a variant each, differing in exactly one component. */
    @SafeVarargs
    public static <R extends Record> void check(Class<R> type, List<R>... pairs) throws Exception {
        RecordComponent[] components = type.getRecordComponents();
        Constructor<R> canonical = type.getDeclaredConstructor(
                Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new));
        canonical.setAccessible(true);
        Set<String> covered = new TreeSet<>();
        for (List<R> pair : pairs) {
            R base = pair.get(0);
            R variant = pair.get(1);
            for (R r : pair) {
                R copy = canonical.newInstance(values(r, components));
                assertEquals(r, copy, type.getSimpleName() + ": a copy of " + r);
                assertEquals(r.hashCode(), copy.hashCode(), type.getSimpleName() + ": the hash of a copy of " + r);
            }
            List<String> differing = new ArrayList<>();
            Object[] a = values(base, components);
            Object[] b = values(variant, components);
            for (int i = 0; i < components.length; i++) {
                if (!Objects.equals(a[i], b[i])) {
                    differing.add(components[i].getName());
                }
            }
            assertEquals(1, differing.size(), type.getSimpleName() + ": a pair must differ in one component: " + differing);
            assertNotEquals(base, variant, type.getSimpleName() + ": differ in " + differing.get(0));
            covered.addAll(differing);
        }
        Set<String> all = new TreeSet<>();
        for (RecordComponent c : components) {
            all.add(c.getName());
        }
        assertEquals(all, covered, type.getSimpleName() + ": every component has a pair");
    }

    private static Object[] values(Record r, RecordComponent[] components) throws Exception {
        Object[] out = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            var accessor = components[i].getAccessor();
            accessor.setAccessible(true);
            out[i] = accessor.invoke(r);
        }
        return out;
    }
}
