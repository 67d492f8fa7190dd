package io.natgw.igd;

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
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * A UPnP service written down as data: its state variables, its actions with their arguments, and one
 * handler per action. {@link #build()} turns it into jupnp's {@link LocalService}, whose descriptor jupnp
 * serves. Handlers run on jupnp's protocol threads and may block (never on a Netty event loop).
 */
@SuppressWarnings({"rawtypes", "unchecked"}) // jupnp's model and transport APIs are raw-typed
final class ServiceSpec {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceSpec.class);

    /** One action's work: the parsed input and the caller's address in, the output arguments out. */
    @FunctionalInterface
    interface Handler {
        Map<String, String> handle(Args in, InetAddress caller) throws ActionException;
    }

    record Var(String name, Datatype.Builtin type, boolean evented, Supplier<String> value) {
    }

    record Arg(String name, String variable, boolean in) {
    }

    record Act(String name, List<Arg> args, Handler handler) {
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
        actions.add(new Act(name, List.of(args), handler));
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
                Map<String, String> out = act.handler().handle(new Args(in), caller);
                for (Map.Entry<String, String> e : out.entrySet()) {
                    output.accept(e.getKey(), e.getValue());
                }
                return null;
            } catch (UpnpError.IgdFault f) {
                LOG.debug("{} from {}: {} {} ({})", act.name(), caller.getHostAddress(), f.getErrorCode(),
                        f.error().name(), f.detail());
                return f;
            } catch (ActionException e) {
                return e;
            } catch (RuntimeException e) {
                LOG.warn("{} from {} failed: {}", act.name(), caller.getHostAddress(), e.toString());
                return UpnpError.ACTION_FAILED.fault(e.toString());
            }
        }
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
