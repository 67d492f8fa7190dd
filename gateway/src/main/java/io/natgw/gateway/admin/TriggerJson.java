package io.natgw.gateway.admin;

import io.natgw.conf.Protocol;
import io.natgw.conf.TriggerRule;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A trigger rule as the API, the web UI and {@code triggers.json} show it: the configuration file's keys,
 * plus the 1-based {@code index} routers show.
 */
@com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
record TriggerJson(int index, String name, String triggerProtocol, String triggerPorts, String incomingProtocol,
                   String incomingPorts, long timeout, boolean enabled, String source) {

    /** The fields a client may send: exactly the configuration file's keys for a trigger rule. */
    static final Set<String> FIELDS = Set.of("name", "triggerProtocol", "triggerPorts", "incomingProtocol", "incomingPorts",
            "timeout", "enabled");

    static TriggerJson of(int index, TriggerRule r) {
        return new TriggerJson(index, r.name(), protocols(r.triggerProtocols()), r.triggerPorts().toString(),
                protocols(r.incomingProtocols()), r.incomingPorts().toString(), r.timeout().toSeconds(), r.enabled(), null);
    }

    /** With where the rule comes from: {@code config} (the configuration file) or {@code api} (saved by an admin). */
    TriggerJson withSource(String s) {
        return new TriggerJson(index, name, triggerProtocol, triggerPorts, incomingProtocol, incomingPorts, timeout, enabled, s);
    }

    /** The rule as configuration-file fields (what {@code triggers.json} stores). */
    static Map<String, Object> fields(TriggerRule r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name());
        m.put("triggerProtocol", protocols(r.triggerProtocols()));
        m.put("triggerPorts", r.triggerPorts().toString());
        m.put("incomingProtocol", protocols(r.incomingProtocols()));
        m.put("incomingPorts", r.incomingPorts().toString());
        m.put("timeout", r.timeout().toSeconds());
        m.put("enabled", r.enabled());
        return m;
    }

    static String protocols(Set<Protocol> set) {
        return set.size() == Protocol.values().length ? "both" : set.iterator().next().label();
    }
}
