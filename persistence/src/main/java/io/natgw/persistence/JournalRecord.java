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
        static final int TYPE = 1;

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
        static final int TYPE = 2;

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
}
