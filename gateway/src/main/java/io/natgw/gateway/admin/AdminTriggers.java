package io.natgw.gateway.admin;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.natgw.conf.ConfigError;
import io.natgw.conf.ConfigException;
import io.natgw.conf.ConfigLoader;
import io.natgw.conf.TriggerRule;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The trigger rules as admins edit them: validated like the configuration file (conf's
 * {@link ConfigLoader#parseTriggerRule}, {@link ConfigLoader#validateTriggerRules}), persisted to
 * {@code triggers.json} (atomic write), then applied to the trigger engine. A change that fails a step is
 * not applied. Persisted rules override the configuration's at start. Callers serialize changes
 * (the API runs them on one thread), so read-validate-write never interleaves.
 */
final class AdminTriggers {

    private static final Logger LOG = LoggerFactory.getLogger(AdminTriggers.class);
    private static final Pattern ACCEPTED = Pattern.compile("\\(accepted: (.*)\\)\\s*$");

    private final AdminFiles files;
    private final Consumer<List<TriggerRule>> apply;
    private volatile List<TriggerRule> rules;

    AdminTriggers(AdminFiles files, List<TriggerRule> configured, Consumer<List<TriggerRule>> apply) {
        this.files = files;
        this.apply = apply;
        this.rules = List.copyOf(configured);
    }

    /** Loads {@code triggers.json} when an admin has saved rules before, and applies the rules in force. */
    List<TriggerRule> start() throws IOException {
        if (Files.isRegularFile(files.triggers())) {
            Stored stored = Json.MAPPER.readValue(files.triggers().toFile(), Stored.class);
            List<TriggerRule> loaded = new ArrayList<>();
            for (Map<String, Object> fields : stored.rules()) {
                try {
                    loaded.add(ConfigLoader.parseTriggerRule(fields));
                } catch (ConfigException e) {
                    throw new IOException(files.triggers() + ": rule " + (loaded.size() + 1) + ": " + e.getMessage());
                }
            }
            List<String> problems = ConfigLoader.validateTriggerRules(loaded);
            if (!problems.isEmpty()) {
                throw new IOException(files.triggers() + ": " + String.join("; ", problems));
            }
            rules = List.copyOf(loaded);
            LOG.info("trigger rules: {} from {} (they override the configuration's)", rules.size(), files.triggers());
        }
        apply.accept(rules);
        return rules;
    }

    List<TriggerRule> rules() {
        return rules;
    }

    List<TriggerJson> listing() {
        List<TriggerJson> out = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            out.add(TriggerJson.of(i + 1, rules.get(i)));
        }
        return out;
    }

    /** The rule named by a 1-based index or by its name, with its index, read from one snapshot of the rules. */
    TriggerJson get(String id) throws ApiException {
        List<TriggerRule> now = rules;
        int i = find(now, id);
        return TriggerJson.of(i + 1, now.get(i));
    }

    /** The position of the rule named by a 1-based index or by its name (any case). */
    int find(String id) throws ApiException {
        return find(rules, id);
    }

    private static int find(List<TriggerRule> now, String id) throws ApiException {
        if (!id.isEmpty() && id.length() < 6 && id.chars().allMatch(Character::isDigit)) {
            int i = Integer.parseInt(id);
            if (i >= 1 && i <= now.size()) {
                return i - 1;
            }
        }
        for (int i = 0; i < now.size(); i++) {
            if (now.get(i).name().equalsIgnoreCase(id)) {
                return i;
            }
        }
        throw ApiException.notFound("no trigger rule '" + id + "' (accepted: an index 1-" + now.size() + " or a rule name)");
    }

    TriggerJson add(ObjectNode body) throws ApiException, IOException {
        TriggerRule rule = parse(body, Map.of());
        List<TriggerRule> next = new ArrayList<>(rules);
        next.add(rule);
        commit(next, "added trigger rule '" + rule.name() + "'");
        return TriggerJson.of(next.size(), rule);
    }

    /** Replaces the fields given; fields left out keep their values. */
    TriggerJson change(String id, ObjectNode body) throws ApiException, IOException {
        int i = find(id);
        TriggerRule rule = parse(body, TriggerJson.fields(rules.get(i)));
        List<TriggerRule> next = new ArrayList<>(rules);
        next.set(i, rule);
        commit(next, "changed trigger rule " + (i + 1) + " '" + rule.name() + "'");
        return TriggerJson.of(i + 1, rule);
    }

    TriggerJson setEnabled(String id, boolean on) throws ApiException, IOException {
        int i = find(id);
        TriggerRule rule = rules.get(i).withEnabled(on);
        List<TriggerRule> next = new ArrayList<>(rules);
        next.set(i, rule);
        commit(next, (on ? "enabled" : "disabled") + " trigger rule " + (i + 1) + " '" + rule.name() + "'");
        return TriggerJson.of(i + 1, rule);
    }

    TriggerJson delete(String id) throws ApiException, IOException {
        int i = find(id);
        TriggerRule gone = rules.get(i);
        List<TriggerRule> next = new ArrayList<>(rules);
        next.remove(i);
        commit(next, "deleted trigger rule " + (i + 1) + " '" + gone.name() + "'");
        return TriggerJson.of(i + 1, gone);
    }

    private TriggerRule parse(ObjectNode body, Map<String, Object> base) throws ApiException {
        Map<String, Object> fields = new LinkedHashMap<>(base);
        fields.putAll(Json.MAPPER.convertValue(body, new TypeReference<Map<String, Object>>() { }));
        try {
            return ConfigLoader.parseTriggerRule(fields);
        } catch (ConfigException e) {
            throw asApi(e.errors().get(0));
        }
    }

    private void commit(List<TriggerRule> next, String what) throws ApiException, IOException {
        List<String> problems = ConfigLoader.validateTriggerRules(next);
        if (!problems.isEmpty()) {
            String msg = problems.get(0);
            Matcher m = ACCEPTED.matcher(msg);
            throw new ApiException(HttpResponseStatus.CONFLICT, m.find() ? msg.substring(0, m.start()).trim() : msg,
                    null, m.find(0) ? m.group(1) : null);
        }
        List<TriggerRule> before = rules;
        save(next);
        try {
            apply.accept(List.copyOf(next));
        } catch (RuntimeException e) {
            save(before); // the engine refused them: keep the file as it was, so nothing is half-applied
            throw new ApiException(HttpResponseStatus.CONFLICT, "the trigger engine refused the rules: " + e.getMessage(), null, null);
        }
        rules = List.copyOf(next);
        LOG.info("{} ({} rules now, saved to {})", what, next.size(), files.triggers());
    }

    private void save(List<TriggerRule> list) throws IOException {
        List<Map<String, Object>> stored = list.stream().map(TriggerJson::fields).toList();
        AdminFiles.writeAtomically(files.triggers(), Json.writeString(new Stored(1, stored)) + "\n", false);
    }

    /** A conf error names the field first ({@code triggerPorts: ...}) and ends with what is accepted. */
    private static ApiException asApi(ConfigError error) {
        String msg = error.message();
        String field = null;
        for (String f : TriggerJson.FIELDS) {
            if (msg.startsWith(f + ":") || msg.startsWith(f + " ") || msg.contains("'" + f + "'") || msg.contains("." + f + ":")) {
                field = f;
                break;
            }
        }
        Matcher m = ACCEPTED.matcher(msg);
        String accepted = m.find() ? m.group(1) : null;
        return ApiException.badField(field, accepted != null ? msg.substring(0, m.start()).trim() : msg, accepted);
    }

    /** {@code triggers.json}: a version number and the rules with the configuration file's keys. */
    record Stored(int version, List<Map<String, Object>> rules) {
    }
}
