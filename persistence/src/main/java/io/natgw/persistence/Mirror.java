package io.natgw.persistence;

import io.natgw.core.Mapping;
import io.natgw.core.MappingKey;

import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** What the files say once replayed: the live rows and the recorded state. Recovery builds it, appends keep it. */
final class Mirror {

    final Map<MappingKey, Mapping> live = new HashMap<>();
    Instant epochStart;
    InetAddress externalAddress;
    /** Rows of an older format that were not restored, each with why (recovery warns once per row). */
    final List<String> obsolete = new ArrayList<>();

    void apply(JournalRecord r) {
        if (r instanceof JournalRecord.Put p) {
            live.put(p.mapping().key(), p.mapping());
        } else if (r instanceof JournalRecord.Remove rm) {
            live.remove(rm.key());
        } else if (r instanceof JournalRecord.Obsolete o) {
            live.remove(o.key());
            obsolete.add(o.why());
        } else if (r instanceof JournalRecord.State s) {
            epochStart = s.epochStart();
            externalAddress = s.externalAddress();
        }
    }

    JournalRecord.State state() {
        return epochStart == null ? null : new JournalRecord.State(epochStart, externalAddress);
    }
}
