package io.natgw.persistence;

import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;

import java.net.InetAddress;
import java.time.Instant;
import java.util.Objects;

/** What one journal or snapshot record says. {@link RecordCodec} turns these into bytes and back. */
sealed interface JournalRecord {

    /** The record type byte on disk. */
    int type();

    /** A row as it is now (added or changed). */
    record Put(Mapping mapping) implements JournalRecord {
        static final int TYPE = 4;
        /** Format 1's PUT: no pinhole id. Read, never written. */
        static final int TYPE_V1 = 1;

        public Put {
            Objects.requireNonNull(mapping, "mapping");
        }

        @Override
        public int type() {
            return TYPE;
        }
    }

    /** The row with this key is gone. */
    record Remove(MappingKey key) implements JournalRecord {
        static final int TYPE = 5;
        /** Format 1's REMOVE: no host. Read, never written. */
        static final int TYPE_V1 = 2;

        public Remove {
            Objects.requireNonNull(key, "key");
        }

        @Override
        public int type() {
            return TYPE;
        }
    }

    /** The NAT-PMP/PCP epoch start and the external address ({@code null} when unknown). */
    record State(Instant epochStart, InetAddress externalAddress) implements JournalRecord {
        static final int TYPE = 3;

        public State {
            Objects.requireNonNull(epochStart, "epochStart");
        }

        @Override
        public int type() {
            return TYPE;
        }
    }

    /**
     * A row of an older format that this release does not restore (read, never written): recovery drops it with a
     * warning that says why, as if removed.
     *
     * @param key the key the row had, so that a later REMOVE of it finds nothing to do
     */
    record Obsolete(MappingKey key, String why) implements JournalRecord {
        static final int TYPE = 0;

        public Obsolete {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(why, "why");
        }

        @Override
        public int type() {
            return TYPE;
        }
    }
}
