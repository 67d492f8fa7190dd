package io.natgw.gateway.cli;

import io.natgw.conf.ConfigError;
import io.natgw.conf.ConfigException;
import io.natgw.conf.ConfigLoader;
import io.natgw.conf.NatgwConfig;
import io.natgw.gateway.DefaultConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code -c FILE}: the configuration that says where the daemon's admin listener and data directory are. */
final class DaemonOptions {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "the daemon's configuration (default: " + DefaultConfig.DESCRIPTION + ")")
    Path config;

    NatgwConfig load() throws CliException {
        try {
            if (config != null) {
                return ConfigLoader.load(config);
            }
            return DefaultConfig.load();
        } catch (ConfigException e) {
            StringBuilder sb = new StringBuilder("the configuration is invalid:");
            for (ConfigError error : e.errors()) {
                sb.append(System.lineSeparator()).append(error);
            }
            throw new CliException(CliException.REFUSED, sb.toString());
        }
    }

    AdminClient client() throws CliException {
        return AdminClient.connect(load());
    }
}
