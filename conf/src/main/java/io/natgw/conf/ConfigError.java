package io.natgw.conf;

import java.nio.file.Path;

/**
 * One problem found in a configuration: where it is and what is wrong. The message names the key path, the
 * bad value and what would be accepted, e.g. {@code pcp.port: 70000 is out of range (accepted: 1-65535)}.
 *
 * @param file   the file, or null when the input was not a file (an admin API request naming fields)
 * @param line   1-based line of the offending value, 0 when unknown
 * @param column 1-based column of the offending value, 0 when unknown
 */
public record ConfigError(Path file, int line, int column, String message) {

    /** {@code file:line:column: message}; the parts that are unknown are left out. */
    @Override
    public String toString() {
        if (file == null) {
            return line > 0 ? line + ":" + column + ": " + message : message;
        }
        return line > 0 ? file + ":" + line + ":" + column + ": " + message : file + ": " + message;
    }
}
