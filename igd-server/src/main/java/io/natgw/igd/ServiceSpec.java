package io.natgw.igd;

import io.natgw.core.MappingRequest;
import io.natgw.core.MappingTable;
import io.natgw.core.Outcome;
import org.jupnp.model.DefaultServiceManager;
import org.jupnp.model.ValidationException;
import org.jupnp.model.action.ActionArgumentValue;
import org.jupnp.model.action.ActionException;
import org.jupnp.model.action.ActionExecutor;
import org.jupnp.model.action.ActionInvocation;
import org.jupnp.model.action.QueryStateVariableExecutor;
import org.jupnp.model.action.RemoteActionInvocation;
import org.jupnp.model.meta.Action;
import org.jupnp.model.meta.ActionArgument;
import org.jupnp.model.meta.LocalService;
import org.jupnp.model.meta.QueryStateVariableAction;
import org.jupnp.model.meta.StateVariable;
import org.jupnp.model.meta.StateVariableEventDetails;
import org.jupnp.model.meta.StateVariableTypeDetails;
import org.jupnp.model.profile.RemoteClientInfo;
import org.jupnp.model.state.StateVariableAccessor;
import org.jupnp.model.types.Datatype;
import org.jupnp.model.types.UDAServiceId;
import org.jupnp.model.types.UDAServiceType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * A UPnP service written down as data: its state variables, its actions with their arguments, and one
 * handler per action. {@link #build()} turns it into jupnp's {@link LocalService}, whose descriptor jupnp
 * serves. A {@link Handler} runs on a worker thread and may block (never on a Netty event loop); a
 * {@link TableHandler}'s checks may run on the HTTP event loop, and never block.
 */
@SuppressWarnings({"rawtypes", "unchecked"}) // jupnp's model and transport APIs are raw-typed
final class ServiceSpec {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceSpec.class);

    /** One action's work: the parsed input and the caller's address in, the output arguments out. */
    @FunctionalInterface
    interface Handler {
        Map<String, String> handle(Args in, InetAddress caller) throws ActionException;
    }

    /**
     * An action that is one request to the table: checked and built from the parsed input, sent, and answered from
     * its outcome. jupnp's path waits for the outcome on its thread; {@link SoapShortcut} sends it from the HTTP event
     * loop and answers when the table does, so no thread waits.
     */
    @FunctionalInterface
    interface TableHandler {
        TableCall prepare(Args in, InetAddress caller) throws ActionException;
    }

    /** What an outcome answers: the output arguments, or a UPnP error thrown. */
    @FunctionalInterface
    interface OutcomeReader {
        Map<String, String> read(Outcome outcome) throws ActionException;
    }

    /** One request to {@code table} and what its outcome answers. */
    record TableCall(MappingTable table, MappingRequest request, OutcomeReader answer) {
        Map<String, String> await() throws ActionException {
            return answer.read(TableCalls.await(table, request));
        }

        /** The request sent: its outcome once the table answers (the caller bounds the wait, as {@link #await} does). */
        CompletableFuture<Outcome> send() {
            return table.submit(request);
        }
    }

    record Var(String name, Datatype.Builtin type, boolean evented, Supplier<String> value) {
    }

    record Arg(String name, String variable, boolean in) {
    }

    /** @param onTable the same action as one table request ({@code handler} waits for it), or {@code null} */
    record Act(String name, List<Arg> args, Handler handler, TableHandler onTable) {
    }

    private final String type;
    private final int version;
    private final String serviceId;
    private final List<Var> vars = new ArrayList<>();
    private final List<Act> actions = new ArrayList<>();

    private ServiceSpec(String type, int version, String serviceId) {
        this.type = type;
        this.version = version;
        this.serviceId = serviceId;
    }

    static ServiceSpec of(String type, int version, String serviceId) {
        return new ServiceSpec(type, version, serviceId);
    }

    static Arg in(String name, String variable) {
        return new Arg(name, variable, true);
    }

    static Arg out(String name, String variable) {
        return new Arg(name, variable, false);
    }

    /** A state variable only used for argument types. */
    ServiceSpec var(String name, Datatype.Builtin t) {
        vars.add(new Var(name, t, false, null));
        return this;
    }

    /** A state variable whose value QueryStateVariable reads; evented ones are sent by GENA. */
    ServiceSpec var(String name, Datatype.Builtin t, boolean evented, Supplier<String> value) {
        vars.add(new Var(name, t, evented, value));
        return this;
    }

    ServiceSpec action(String name, Handler handler, Arg... args) {
        actions.add(new Act(name, List.of(args), handler, null));
        return this;
    }

    /** An action that is one table request (see {@link TableHandler}). */
    ServiceSpec tableAction(String name, TableHandler handler, Arg... args) {
        actions.add(new Act(name, List.of(args), (in, caller) -> handler.prepare(in, caller).await(), handler));
        return this;
    }

    String type() {
        return type;
    }

    int version() {
        return version;
    }

    LocalService<Object> build() throws ValidationException {
        Map<StateVariable, StateVariableAccessor> stateVariables = new LinkedHashMap<>();
        for (Var v : vars) {
            StateVariable sv = new StateVariable(v.name(), new StateVariableTypeDetails(v.type().getDatatype()),
                    new StateVariableEventDetails(v.evented()));
            stateVariables.put(sv, v.value() == null ? null : new SupplierAccessor(v.value()));
        }
        Map<Action, ActionExecutor> executors = new HashMap<>();
        for (Act a : actions) {
            ActionArgument[] args = a.args().stream()
                    .map(x -> new ActionArgument(x.name(), x.variable(),
                            x.in() ? ActionArgument.Direction.IN : ActionArgument.Direction.OUT))
                    .toArray(ActionArgument[]::new);
            executors.put(new Action(a.name(), args), new SpecExecutor(a));
        }
        executors.put(new QueryStateVariableAction(), new QueryStateVariableExecutor());
        @SuppressWarnings({"unchecked", "rawtypes"})
        LocalService<Object> service = new LocalService(new UDAServiceType(type, version), new UDAServiceId(serviceId),
                executors, stateVariables, java.util.Set.of(), true);
        service.setManager(new SpecManager(service));
        return service;
    }

    /**
     * Runs one action's handler and hands its outputs (or its UPnP error) to jupnp. {@link SoapShortcut} runs
     * handlers through {@link #run} too, so both paths log and map failures alike.
     */
    record SpecExecutor(Act act) implements ActionExecutor {
        @Override
        public void execute(ActionInvocation<LocalService> invocation) {
            RemoteClientInfo client = invocation instanceof RemoteActionInvocation r ? r.getRemoteClientInfo()
                    : invocation.getClientInfo() instanceof RemoteClientInfo c ? c : null;
            if (client == null || client.getConnection() == null) {
                invocation.setFailure(UpnpError.NOT_AUTHORIZED.fault("no remote caller"));
                return;
            }
            ActionException failure = run(invocation.getInputMap(), client.getRemoteAddress(), invocation::setOutput);
            if (failure != null) {
                invocation.setFailure(failure);
            }
        }

        /**
         * The handler on {@code in}: each output goes to {@code output} (which may refuse it by throwing, as
         * jupnp does for a value of the wrong type). Returns the failure, or {@code null} on success.
         */
        ActionException run(Map<String, ? extends ActionArgumentValue<?>> in, InetAddress caller,
                            BiConsumer<String, String> output) {
            try {
                return emit(act.handler().handle(new Args(in), caller), output);
            } catch (ActionException | RuntimeException e) {
                return failure(e, caller);
            }
        }

        /**
         * The first half of {@link #run} for an action with {@link Act#onTable}: its request, or the failure that
         * refused it before the table was asked.
         */
        Prepared prepare(Map<String, ? extends ActionArgumentValue<?>> in, InetAddress caller) {
            try {
                return new Prepared(act.onTable().prepare(new Args(in), caller), null);
            } catch (ActionException | RuntimeException e) {
                return new Prepared(null, failure(e, caller));
            }
        }

        /** The second half: the table's outcome (or why there was none) read as {@link #run} reads it. */
        ActionException finish(TableCall call, Outcome outcome, Throwable noOutcome, InetAddress caller,
                               BiConsumer<String, String> output) {
            try {
                if (noOutcome != null) {
                    throw UpnpError.ACTION_FAILED.fault("the table did not answer: " + noOutcome);
                }
                return emit(call.answer().read(outcome), output);
            } catch (ActionException | RuntimeException e) {
                return failure(e, caller);
            }
        }

        private static ActionException emit(Map<String, String> out, BiConsumer<String, String> output) {
            for (Map.Entry<String, String> e : out.entrySet()) {
                output.accept(e.getKey(), e.getValue());
            }
            return null;
        }

        private ActionException failure(Exception e, InetAddress caller) {
            if (e instanceof UpnpError.IgdFault f) {
                LOG.debug("{} from {}: {} {} ({})", act.name(), caller.getHostAddress(), f.getErrorCode(),
                        f.error().name(), f.detail());
                return f;
            }
            if (e instanceof ActionException a) {
                return a;
            }
            LOG.warn("{} from {} failed: {}", act.name(), caller.getHostAddress(), e.toString());
            return UpnpError.ACTION_FAILED.fault(e.toString());
        }
    }

    /** A table action's request ready to send, or the failure that refused it first (exactly one is set). */
    record Prepared(TableCall call, ActionException failure) {
    }

    /** Reads a state variable's value from its supplier (QueryStateVariable, GENA). */
    private static final class SupplierAccessor extends StateVariableAccessor {
        private final Supplier<String> value;

        SupplierAccessor(Supplier<String> value) {
            this.value = value;
        }

        @Override
        public Class<?> getReturnType() {
            return String.class;
        }

        @Override
        public Object read(Object serviceImpl) {
            return value.get();
        }
    }

    /** jupnp's manager wants an implementation object; ours is stateless, the spec stands in for it. */
    private final class SpecManager extends DefaultServiceManager<Object> {
        SpecManager(LocalService<Object> service) {
            super(service, Object.class);
        }

        @Override
        protected Object createServiceInstance() {
            return ServiceSpec.this;
        }
    }
}
