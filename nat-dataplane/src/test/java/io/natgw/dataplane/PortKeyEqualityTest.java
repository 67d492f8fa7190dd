package io.natgw.dataplane;

import io.natgw.conf.Protocol;
import io.natgw.core.RecordEquality;
import org.junit.jupiter.api.Test;

import java.util.List;

/** {@link Dataplane.PortKey}'s written-out equality is the record's own: both components count. */
class PortKeyEqualityTest {

    @Test
    void bothComponentsCount() throws Exception {
        Dataplane.PortKey k = new Dataplane.PortKey(Protocol.TCP, 6000);
        RecordEquality.check(Dataplane.PortKey.class,
                List.of(k, new Dataplane.PortKey(Protocol.UDP, 6000)),
                List.of(k, new Dataplane.PortKey(Protocol.TCP, 6001)));
    }
}
