package io.natgw.core;

import java.net.InetAddress;
import java.util.List;

/**
 * Receives the table's committed changes, in commit order, after they are durable. Called on the table's
 * writer thread: implementations hand work off and return quickly, and never call back into the table
 * synchronously.
 */
public interface TableListener {

    void committed(List<Change> changes);

    default void externalAddressChanged(InetAddress previous, InetAddress current) {
    }
}
