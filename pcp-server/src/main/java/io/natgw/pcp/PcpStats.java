package io.natgw.pcp;

import java.util.Map;

/**
 * What the NAT-PMP/PCP server has seen, for metrics. Every datagram lands in exactly one bucket: answered (by
 * protocol and result), ignored (malformed beyond answering, responses, R bit), rate-limited, or not from the LAN.
 */
public record PcpStats(long natPmpRequests, long pcpRequests, Map<NatPmpResultCode, Long> natPmpResults,
                       Map<PcpResultCode, Long> pcpResults, long ignored, long rateLimited, long notFromLan) {

    public PcpStats {
        natPmpResults = Map.copyOf(natPmpResults);
        pcpResults = Map.copyOf(pcpResults);
    }

    /** Answers that were not SUCCESS, both protocols. */
    public long refusals() {
        return natPmpResults.entrySet().stream().filter(e -> e.getKey() != NatPmpResultCode.SUCCESS).mapToLong(Map.Entry::getValue).sum()
                + pcpResults.entrySet().stream().filter(e -> e.getKey() != PcpResultCode.SUCCESS).mapToLong(Map.Entry::getValue).sum();
    }

    public long natPmp(NatPmpResultCode code) {
        return natPmpResults.getOrDefault(code, 0L);
    }

    public long pcp(PcpResultCode code) {
        return pcpResults.getOrDefault(code, 0L);
    }
}
