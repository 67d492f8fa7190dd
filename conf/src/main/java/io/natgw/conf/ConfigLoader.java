package io.natgw.conf;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loads {@code natgw.yaml} into a {@link NatgwConfig}, reporting every problem at once with the file, line and
 * column of the offending value, the bad value and what would be accepted.
 *
 * <p>Keys that are absent take the defaults documented in the shipped {@code conf/natgw.yaml} (the values it
 * sets), so an empty file is a working loopback sandbox. Durations are integer seconds. A relative
 * {@code dataDir} is resolved against the working directory of the process that loads the file.
 * Host names are never resolved: addresses are IP literals (or {@code auto} for {@code network.wan.address}).
 */
public final class ConfigLoader {

    /** The classpath resource holding the shipped {@code conf/natgw.yaml}. */
    public static final String DEFAULTS_RESOURCE = "io/natgw/conf/natgw.yaml";
    /** The source recorded in {@link NatgwConfig#source()} for {@link #defaults()}. */
    public static final Path DEFAULTS_SOURCE = Path.of("<defaults>");

    private ConfigLoader() {
    }

    public static NatgwConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new ConfigException(List.of(new ConfigError(file, 0, 0, "not UTF-8 text (accepted: a UTF-8 YAML file)")));
        } catch (IOException e) {
            throw new ConfigException(List.of(new ConfigError(file, 0, 0, "cannot read the file: " + describe(e))));
        }
        return parse(text, file);
    }

    /** @param sourceName the name errors and {@link NatgwConfig#source()} use for this text */
    public static NatgwConfig parse(String yaml, Path sourceName) throws ConfigException {
        Problems problems = new Problems(sourceName);
        Node root = YamlTree.parse(yaml, problems);
        if (root == null) {
            problems.finish(); // throws: the syntax error is recorded
            throw new IllegalStateException("unreachable: a YAML syntax error was not recorded");
        }
        return new ConfigReader(problems).read(root, sourceName);
    }

    /**
     * The shipped {@code conf/natgw.yaml} (packaged as {@value #DEFAULTS_RESOURCE}); its source is
     * {@link #DEFAULTS_SOURCE}.
     *
     * @throws IllegalStateException when the shipped file is missing or invalid (a build defect)
     */
    public static NatgwConfig defaults() {
        return Defaults.CONFIG;
    }

    /**
     * Reads one trigger rule given as fields (e.g. an admin API request's JSON object), exactly as an item of
     * the file's {@code triggers:} list. Errors have no file or line; their messages start with the field name.
     */
    public static TriggerRule parseTriggerRule(Map<String, Object> fields) throws ConfigException {
        Problems problems = new Problems(null);
        Section section = Section.root(problems, YamlTree.fromJava(fields));
        TriggerRule rule = TriggerRules.read(section, problems);
        problems.finish();
        return rule;
    }

    /**
     * What stops these rules from being in force together: two rules with one name (any case), and enabled
     * rules whose trigger ports, or incoming ports, overlap on a shared protocol. Each message names both rules;
     * an empty list means the rules are fine.
     */
    public static List<String> validateTriggerRules(List<TriggerRule> rules) {
        List<String> out = new ArrayList<>();
        for (TriggerRules.Conflict c : TriggerRules.conflicts(rules)) {
            out.add(c.message(""));
        }
        return out;
    }

    /** Every key path the loader reads, list items written {@code []} (e.g. {@code triggers[].timeout}). */
    static Set<String> keysRead(String yaml) throws ConfigException {
        Problems problems = new Problems(Path.of("keys.yaml"));
        Node root = YamlTree.parse(yaml, problems);
        new ConfigReader(problems).read(root, Path.of("keys.yaml"));
        return problems.keysRead();
    }

    private static String describe(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** Parsed once, on first use. */
    private static final class Defaults {
        static final NatgwConfig CONFIG = load();

        private static NatgwConfig load() {
            try (InputStream in = ConfigLoader.class.getClassLoader().getResourceAsStream(DEFAULTS_RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("the shipped configuration " + DEFAULTS_RESOURCE + " is not on the classpath");
                }
                return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), DEFAULTS_SOURCE);
            } catch (ConfigException e) {
                throw new IllegalStateException("the shipped configuration is invalid:\n" + e.getMessage(), e);
            } catch (IOException e) {
                throw new UncheckedIOException("reading the shipped configuration " + DEFAULTS_RESOURCE, e);
            }
        }
    }
}
