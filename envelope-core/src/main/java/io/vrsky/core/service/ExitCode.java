package io.vrsky.core.service;

/** The process exit codes of both services. Only {@code main} exits. */
public enum ExitCode {
    /** A clean stop (SIGTERM after a clean drain). */
    CLEAN(0),
    /** An error nobody expected: a bug, or something the service does not know how to handle. */
    UNEXPECTED(1),
    /** Invalid configuration: one line per problem on stderr. */
    BAD_CONFIG(2),
    /**
     * A dependency is still unreachable after DEPENDENCY_RETRY_TIMEOUT, or refuses us (login refused,
     * database missing, wal_level, privileges, replica identity, a lost slot).
     */
    DEPENDENCY(3),
    /** A data or protocol error the service cannot get past. */
    DATA(4);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    /** The number the process exits with. */
    public int code() {
        return code;
    }

    /** The constant for a process exit number; {@link #UNEXPECTED} for a number that is none of them. */
    public static ExitCode of(int code) {
        for (ExitCode c : values()) {
            if (c.code == code) {
                return c;
            }
        }
        return UNEXPECTED;
    }
}
