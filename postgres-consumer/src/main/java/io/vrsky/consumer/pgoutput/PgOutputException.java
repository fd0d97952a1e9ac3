package io.vrsky.consumer.pgoutput;

/** Bytes that are not a valid pgoutput message, or a value that cannot be converted. */
public final class PgOutputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PgOutputException(String message) {
        super(message);
    }

    public PgOutputException(String message, Throwable cause) {
        super(message, cause);
    }
}
