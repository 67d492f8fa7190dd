package io.natgw.core;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Instant;
import java.util.List;

/**
 * A store that passes everything to another: tests override the one method they disturb or watch. Shared with the
 * other modules' tests through core's test-jar.
 */
public class ForwardingStore implements LeaseStore {
    private final LeaseStore inner;

    public ForwardingStore(LeaseStore inner) {
        this.inner = inner;
    }

    @Override
    public Recovered recover(Instant now) throws IOException {
        return inner.recover(now);
    }

    @Override
    public void commit(List<Change> changes) throws IOException {
        inner.commit(changes);
    }

    @Override
    public void retract(List<Change> inverse) throws IOException {
        inner.retract(inverse);
    }

    @Override
    public void recordState(Instant epochStart, InetAddress externalAddress) throws IOException {
        inner.recordState(epochStart, externalAddress);
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }
}
