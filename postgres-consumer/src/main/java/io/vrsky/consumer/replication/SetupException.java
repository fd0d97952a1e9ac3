package io.vrsky.consumer.replication;

/**
 * PostgreSQL cannot be used as configured and retrying will not help (wal_level, privilege,
 * a slot of another plugin, a table that does not exist). Carries the exit code main should use.
 */
public final class SetupException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    public SetupException(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
