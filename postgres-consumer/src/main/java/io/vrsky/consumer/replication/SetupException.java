package io.vrsky.consumer.replication;

import io.vrsky.core.service.ExitCode;
import io.vrsky.core.service.ServiceFailure;

/**
 * PostgreSQL cannot be used as configured and retrying will not help (wal_level, privilege, a
 * slot of another plugin, a table that does not exist, a replica identity that cannot publish
 * UPDATE and DELETE, a lost slot). Carries the exit code main should use.
 */
public final class SetupException extends ServiceFailure {
    private static final long serialVersionUID = 1L;

    public SetupException(ExitCode exitCode, String message) {
        super(exitCode, message);
    }
}
