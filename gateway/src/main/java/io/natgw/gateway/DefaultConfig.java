package io.natgw.gateway;

import io.natgw.conf.ConfigException;
import io.natgw.conf.ConfigLoader;
import io.natgw.conf.NatgwConfig;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The configuration natgw reads when no {@code -c FILE} is given. The installed {@code /usr/bin/natgw} sets the system
 * property {@value #PROPERTY} to {@code /etc/natgw/natgw.yaml}: that file is then required (a missing one is an error
 * naming it, never a silent fall-back to the loopback sandbox). Without the property (a source checkout):
 * {@code conf/natgw.yaml} if present, else the embedded defaults.
 */
public final class DefaultConfig {

    /** System property naming the default configuration file (set by the Debian package's launcher). */
    public static final String PROPERTY = "natgw.config";

    /** For picocli option descriptions: what {@link #load()} reads, as shown by {@code --help}. */
    public static final String DESCRIPTION = "${sys:" + PROPERTY + ":-conf/natgw.yaml if present, else the embedded defaults}";

    static final Path REPOSITORY_CONFIG = Path.of("conf", "natgw.yaml");

    private DefaultConfig() {
    }

    public static NatgwConfig load() throws ConfigException {
        String installed = System.getProperty(PROPERTY, "");
        if (!installed.isEmpty()) {
            return ConfigLoader.load(Path.of(installed));
        }
        return Files.isRegularFile(REPOSITORY_CONFIG) ? ConfigLoader.load(REPOSITORY_CONFIG) : ConfigLoader.defaults();
    }
}
