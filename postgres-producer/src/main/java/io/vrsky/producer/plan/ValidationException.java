package io.vrsky.producer.plan;

/**
 * A change cannot be applied as written: table not whitelisted or missing, unknown column,
 * a value that does not fit its column, a key that is missing. The message goes to the DLQ with
 * class {@code validation}; nothing of it reaches SQL.
 */
public final class ValidationException extends Exception {
    private static final long serialVersionUID = 1L;

    public ValidationException(String message) {
        super(message);
    }
}
