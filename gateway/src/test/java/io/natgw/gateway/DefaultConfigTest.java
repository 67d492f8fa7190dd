package io.natgw.gateway;

import io.natgw.conf.ConfigException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The installed launcher's -Dnatgw.config=/etc/natgw/natgw.yaml: the file named is read, and required. */
class DefaultConfigTest {

    @TempDir
    Path dir;

    @AfterEach
    void clear() {
        System.clearProperty(DefaultConfig.PROPERTY);
    }

    @Test
    void theFileNamedByThePropertyIsTheDefault() throws Exception {
        Path file = dir.resolve("natgw.yaml");
        Files.writeString(file, "dataDir: /var/lib/natgw\n");
        System.setProperty(DefaultConfig.PROPERTY, file.toString());
        assertEquals(Path.of("/var/lib/natgw"), DefaultConfig.load().dataDir());
        assertEquals(Path.of("/var/lib/natgw"), Main.loadConfig(null).dataDir());
    }

    @Test
    void aMissingInstalledFileIsAnErrorNamingItNotTheSandbox() {
        Path missing = dir.resolve("absent.yaml");
        System.setProperty(DefaultConfig.PROPERTY, missing.toString());
        ConfigException e = assertThrows(ConfigException.class, DefaultConfig::load);
        assertTrue(e.errors().get(0).toString().contains(missing.toString()), e.errors().toString());
    }

    @Test
    void helpShowsTheInstalledDefault() {
        System.setProperty(DefaultConfig.PROPERTY, "/etc/natgw/natgw.yaml");
        for (String command : new String[] {"run", "leases", "status"}) {
            // picocli wraps long descriptions: compare with the line breaks and indentation removed
            String help = Main.commandLine().getSubcommands().get(command).getUsageMessage().replaceAll("\\s*\\n\\s*", "");
            assertTrue(help.contains("(default: /etc/natgw/natgw.yaml)"), help);
        }
    }
}
