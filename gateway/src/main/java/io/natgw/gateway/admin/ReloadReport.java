package io.natgw.gateway.admin;

import java.util.List;

/**
 * What a reload did ({@code POST /api/v1/reload}, {@code natgw reload}, SIGHUP), as the API answers it.
 *
 * @param applied       false when the file was invalid: then nothing changed and {@code errors} says why
 * @param file          the configuration file that was read
 * @param errors        {@code file:line:column: message} per problem (invalid file only)
 * @param restartNeeded the keys whose new values take effect only after a restart (listeners, data directory,
 *                      dataplane); the running values are kept for them
 * @param changes       one line per part applied (static mappings, leases removed, trigger rules)
 */
public record ReloadReport(boolean applied, String file, List<String> errors, List<String> restartNeeded,
                           List<String> changes) {

    public ReloadReport {
        errors = List.copyOf(errors);
        restartNeeded = List.copyOf(restartNeeded);
        changes = List.copyOf(changes);
    }

    /** For an invalid file: what the API's error field says (every error on its own line). */
    @com.fasterxml.jackson.annotation.JsonProperty("error")
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public String error() {
        return applied ? null : "the configuration was not reloaded, nothing changed:\n" + String.join("\n", errors);
    }
}
