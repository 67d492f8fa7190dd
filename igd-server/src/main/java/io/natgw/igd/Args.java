package io.natgw.igd;

import io.natgw.conf.Addresses;
import io.natgw.conf.Protocol;
import org.jupnp.model.action.ActionArgumentValue;
import org.jupnp.model.action.ActionException;
import org.jupnp.model.types.UnsignedVariableInteger;

import java.net.InetAddress;
import java.util.Map;

/**
 * The input arguments of one SOAP action, as jupnp parsed them against the state variables' types. Every
 * accessor fails with 402 Invalid Args naming the argument, so handlers read like the spec's tables.
 */
final class Args {

    private final Map<String, ? extends ActionArgumentValue<?>> values;

    Args(Map<String, ? extends ActionArgumentValue<?>> values) {
        this.values = values;
    }

    private Object value(String name) {
        ActionArgumentValue<?> v = values.get(name);
        return v == null ? null : v.getValue();
    }

    /** A string argument; empty when sent empty. */
    String text(String name) throws ActionException {
        Object v = value(name);
        if (v == null) {
            if (values.containsKey(name)) {
                return "";
            }
            throw UpnpError.INVALID_ARGS.fault(name + " is missing");
        }
        return v.toString();
    }

    /** An unsigned integer argument (ui2, ui4). */
    long number(String name) throws ActionException {
        Object v = value(name);
        if (v instanceof UnsignedVariableInteger u) {
            return u.getValue();
        }
        throw UpnpError.INVALID_ARGS.fault(name + " is missing or not a number");
    }

    /** A port 0-65535 (0 = wildcard where the action allows it). */
    int port(String name) throws ActionException {
        long p = number(name);
        if (p > 65535) {
            throw UpnpError.INVALID_ARGS.fault(name + " " + p + " is not a port");
        }
        return (int) p;
    }

    boolean flag(String name) throws ActionException {
        Object v = value(name);
        if (v instanceof Boolean b) {
            return b;
        }
        throw UpnpError.INVALID_ARGS.fault(name + " is missing or not a boolean");
    }

    /** NewProtocol: TCP or UDP in any case. */
    Protocol protocol(String name) throws ActionException {
        String t = text(name);
        try {
            return Protocol.parse(t);
        } catch (IllegalArgumentException e) {
            throw UpnpError.INVALID_ARGS.fault(name + " '" + t + "' is not TCP or UDP");
        }
    }

    /** An IP address literal (never resolved); {@code null} when empty and {@code emptyAllowed}. */
    InetAddress address(String name, boolean emptyAllowed) throws ActionException {
        String t = text(name).trim();
        if (t.isEmpty() && emptyAllowed) {
            return null;
        }
        try {
            return Addresses.parseLiteral(t);
        } catch (IllegalArgumentException e) {
            throw UpnpError.INVALID_ARGS.fault(name + " '" + t + "' is not an IP address literal");
        }
    }
}
