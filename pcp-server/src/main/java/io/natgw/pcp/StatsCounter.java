package io.natgw.pcp;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Lock-free counters behind {@link PcpStats}; bumped from event loops and the table's writer thread. */
final class StatsCounter {

    private final LongAdder natPmpRequests = new LongAdder();
    private final LongAdder pcpRequests = new LongAdder();
    private final LongAdder ignored = new LongAdder();
    private final LongAdder rateLimited = new LongAdder();
    private final LongAdder notFromLan = new LongAdder();
    private final Map<NatPmpResultCode, LongAdder> natPmpResults = new EnumMap<>(NatPmpResultCode.class);
    private final Map<PcpResultCode, LongAdder> pcpResults = new EnumMap<>(PcpResultCode.class);

    StatsCounter() {
        for (NatPmpResultCode c : NatPmpResultCode.values()) {
            natPmpResults.put(c, new LongAdder());
        }
        for (PcpResultCode c : PcpResultCode.values()) {
            pcpResults.put(c, new LongAdder());
        }
    }

    void natPmpRequest() {
        natPmpRequests.increment();
    }

    void pcpRequest() {
        pcpRequests.increment();
    }

    void answered(NatPmpResultCode code) {
        natPmpResults.get(code).increment();
    }

    void answered(PcpResultCode code) {
        pcpResults.get(code).increment();
    }

    void ignored() {
        ignored.increment();
    }

    void rateLimited() {
        rateLimited.increment();
    }

    void notFromLan() {
        notFromLan.increment();
    }

    PcpStats snapshot() {
        Map<NatPmpResultCode, Long> n = new EnumMap<>(NatPmpResultCode.class);
        natPmpResults.forEach((k, v) -> {
            if (v.sum() > 0) {
                n.put(k, v.sum());
            }
        });
        Map<PcpResultCode, Long> p = new EnumMap<>(PcpResultCode.class);
        pcpResults.forEach((k, v) -> {
            if (v.sum() > 0) {
                p.put(k, v.sum());
            }
        });
        return new PcpStats(natPmpRequests.sum(), pcpRequests.sum(), n, p, ignored.sum(), rateLimited.sum(), notFromLan.sum());
    }
}
