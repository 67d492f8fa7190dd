package io.natgw.igd;

import io.natgw.core.MappingRequest;
import io.natgw.core.MappingTable;
import io.natgw.core.Outcome;
import org.jupnp.model.action.ActionException;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** How a UPnP action waits for the table: at most {@link #WAIT_SECONDS}; no answer in time is an ActionFailed fault. */
final class TableCalls {

    static final long WAIT_SECONDS = 10;

    private TableCalls() {
    }

    static Outcome await(MappingTable table, MappingRequest request) throws ActionException {
        try {
            return table.submit(request).get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw UpnpError.ACTION_FAILED.fault("interrupted");
        } catch (ExecutionException | TimeoutException e) {
            throw UpnpError.ACTION_FAILED.fault("the table did not answer: " + e);
        }
    }
}
