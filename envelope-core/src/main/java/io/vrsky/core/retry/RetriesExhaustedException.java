package io.vrsky.core.retry;

/** The last failure of an operation that used up its attempts. */
public final class RetriesExhaustedException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int attempts;

    public RetriesExhaustedException(String operation, int attempts, Throwable last) {
        super(operation + " failed after " + attempts + " attempt(s): " + last.getMessage(), last);
        this.attempts = attempts;
    }

    public int attempts() {
        return attempts;
    }
}
