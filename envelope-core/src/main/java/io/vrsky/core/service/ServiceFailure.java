package io.vrsky.core.service;

import java.util.Objects;

/**
 * The service cannot go on: carries the exit code and a message meant for the operator (what
 * failed, where, and PostgreSQL's or NATS's own words). An expected failure (a refused login, a
 * dependency down past its retry timeout) carries no stack trace; the message says it all. The
 * cause, when given, is kept for whoever wants to log it at DEBUG.
 *
 * <p>Open for subclasses that name where a failure comes from (e.g. a set-up check); they keep
 * the same meaning.
 */
public class ServiceFailure extends Exception {
    private static final long serialVersionUID = 1L;

    private final ExitCode exitCode;

    /** An expected failure: no stack trace. */
    public ServiceFailure(ExitCode exitCode, String message) {
        this(exitCode, message, null);
    }

    /** An expected failure with its cause (no stack trace of its own). */
    public ServiceFailure(ExitCode exitCode, String message, Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause, false, false);
        this.exitCode = Objects.requireNonNull(exitCode, "exitCode");
    }

    public ExitCode exitCode() {
        return exitCode;
    }
}
