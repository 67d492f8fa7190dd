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
 * not applied. Callers serialize changes (the API runs them on one thread), so read-validate-write never
 * interleaves.
 *
 * <p>Precedence (documented in {@code conf/natgw.yaml} and the README): once an admin has changed the rules through
 * the API, the saved set ({@code triggers.json}) is the one in force, at every start and after every reload, and the
 * file's {@code triggers:} are not applied; the start-up log says so (WARN when the two differ), the listing marks
 * each rule with its source ({@code config} when the file lists the same rule, {@code api} otherwise), and
 * {@link #reset()} ({@code natgw triggers reset}) deletes the saved set and returns to the file's rules.
 */
final class AdminTriggers {

    private static final Logger LOG = LoggerFactory.getLogger(AdminTriggers.class);
    private static final Pattern ACCEPTED = Pattern.compile("\\(accepted: (.*)\\)\\s*$");

    private final AdminFiles files;
    private final Consumer<List<TriggerRule>> apply;
    private volatile List<TriggerRule> rules;
    /** The configuration file's rules (replaced by a reload). */
    private volatile List<TriggerRule> configured;
    /** Whether the rules in force are the saved set of {@code triggers.json} rather than the file's. */
    private volatile boolean saved;

    AdminTriggers(AdminFiles files, List<TriggerRule> configured, Consumer<List<TriggerRule>> apply) {
        this.files = files;
        this.apply = apply;
        this.rules = List.copyOf(configured);
        this.configured = List.copyOf(configured);
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
            saved = true;
            if (rules.equals(configured)) {
                LOG.info("trigger rules: {} from {} (saved through the admin API; the same as the configuration's)",
                        rules.size(), files.triggers());
            } else {
                LOG.warn("trigger rules: the {} saved through the admin API in {} are in force, not the {} of the"
                        + " configuration file (the saved set takes precedence; 'natgw triggers reset' returns to the"
                        + " file's)", rules.size(), files.triggers(), configured.size());
            }
        }
        apply.accept(rules);
        return rules;
    }

    List<TriggerRule> rules() {
        return rules;
    }

    List<TriggerJson> listing() {
        List<TriggerRule> now = rules;
        List<TriggerRule> file = configured;
        boolean fromApi = saved;
        List<TriggerJson> out = new ArrayList<>();
        for (int i = 0; i < now.size(); i++) {
            out.add(TriggerJson.of(i + 1, now.get(i)).withSource(!fromApi || file.contains(now.get(i)) ? "config" : "api"));
        }
        return out;
    }

    /** Where the rules in force come from: {@code config} (the file) or {@code api} (the saved set). */
    String source() {
        return saved ? "api" : "config";
    }

    /** Deletes the saved set and applies the configuration file's rules again. */
    List<TriggerJson> reset() throws ApiException, IOException {
        List<TriggerRule> file = configured;
        try {
            apply.accept(file);
        } catch (RuntimeException e) {
            throw new ApiException(HttpResponseStatus.CONFLICT, "the trigger engine refused the file's rules: " + e.getMessage(), null, null);
        }
        Files.deleteIfExists(files.triggers());
        rules = file;
        saved = false;
        LOG.info("trigger rules reset to the {} of the configuration file (deleted {})", file.size(), files.triggers());
        return listing();
    }

    /**
     * A reload: the file's rules are now {@code next}. They are applied unless the saved set is in force; returns
     * one line saying which.
     */
    String reload(List<TriggerRule> next) {
        List<TriggerRule> copy = List.copyOf(next);
        if (saved) {
            configured = copy;
            return "trigger rules: the " + rules.size() + " saved through the admin API stay in force (they take"
                    + " precedence over the file's " + copy.size() + "; 'natgw triggers reset' returns to the file's)";
        }
        if (copy.equals(rules)) {
            configured = copy;
            return "trigger rules: unchanged (" + copy.size() + ")";
        }
        apply.accept(copy);
        configured = copy;
        rules = copy;
        return "trigger rules: " + copy.size() + " from the configuration file applied";
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
        saved = true;
        LOG.info("{} ({} rules now, saved to {}; they take precedence over the configuration file's)", what, next.size(),
                files.triggers());
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
