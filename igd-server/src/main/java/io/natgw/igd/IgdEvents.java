package io.natgw.igd;

import io.natgw.core.Change;
import io.natgw.core.TableListener;
import org.jupnp.model.meta.LocalService;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * GENA from table changes: when the number of entries changes, or the external address, the WANIPConnection
 * services of both trees send their evented variables to subscribers. Runs on the table's writer thread, so
 * it only hands the work to an executor and returns. Notifications coalesce: while one waits for the executor, later
 * changes add their variable names to it instead of queueing another (each reads the table as it is when it runs, so
 * a burst of changes costs one read of the table, not one per change). With no GENA subscription nothing is sent:
 * jupnp would read every evented variable of both services per change for nobody (a profile of the deployed daemon
 * under NAT-PMP/UPnP load showed this at about a fifth of the table writer's CPU). A subscription registered after
 * a skipped change starts from jupnp's initial event, which reads the variables as they are then.
 */
final class IgdEvents implements TableListener {

    /** Every service of both trees: each variable is sent by the services that have it. */
    private final List<LocalService<?>> services;
    private final Executor executor;
    /** Whether any GENA subscription is held (registered in jupnp's registry). */
    private final BooleanSupplier subscribed;
    private final Set<String> due = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private volatile boolean open = true;

    IgdEvents(List<LocalService<?>> services, Executor executor, BooleanSupplier subscribed) {
        this.services = List.copyOf(services);
        this.executor = executor;
        this.subscribed = subscribed;
    }

    @Override
    public void committed(List<Change> changes) {
        boolean countChanged = false;
        for (Change c : changes) {
            if (c.type() != Change.Type.UPDATED) {
                countChanged = true;
                break;
            }
        }
        if (countChanged) {
            fire("PortMappingNumberOfEntries", "SystemUpdateID");
        }
    }

    @Override
    public void externalAddressChanged(InetAddress previous, InetAddress current) {
        fire("ExternalIPAddress", "SystemUpdateID");
    }

    /** The WAN link went up or down: PhysicalLinkStatus (WANCommonInterfaceConfig) and ConnectionStatus are evented. */
    void linkChanged() {
        fire("PhysicalLinkStatus", "ConnectionStatus");
    }

    void close() {
        open = false;
    }

    private void fire(String... variables) {
        if (!open || !subscribed.getAsBoolean()) {
            return;
        }
        due.addAll(List.of(variables));
        if (scheduled.compareAndSet(false, true)) {
            executor.execute(this::send);
        }
    }

    /** Executor: sends every variable named since the last send (names added while it runs schedule another). */
    private void send() {
        scheduled.set(false);
        List<String> variables = new ArrayList<>();
        for (Iterator<String> it = due.iterator(); it.hasNext(); ) {
            variables.add(it.next());
            it.remove();
        }
        if (variables.isEmpty() || !open) {
            return;
        }
        for (LocalService<?> s : services) {
            StringBuilder names = new StringBuilder();
            for (String v : variables) {
                if (s.getStateVariable(v) != null) {
                    names.append(names.length() == 0 ? "" : ",").append(v);
                }
            }
            if (names.length() == 0) {
                continue;
            }
            // jupnp's manager reads the named variables and sends them to every subscriber of the service.
            s.getManager().getPropertyChangeSupport().firePropertyChange(names.toString(), null, "changed");
        }
    }
}
