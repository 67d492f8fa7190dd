package io.natgw.gateway.cli;

/** A CLI failure the user can act on: the message says what and what to do; the exit code says which kind. */
final class CliException extends Exception {

    private static final long serialVersionUID = 1L;

    /** The daemon answered but refused the request (or the configuration is invalid). */
    static final int REFUSED = 1;
    /** Nothing answers at the admin address, or it is not our daemon (certificate mismatch). */
    static final int NOT_RUNNING = 3;
    /** The token is missing or the daemon rejects it. */
    static final int AUTH = 4;

    private final int exitCode;

    CliException(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
