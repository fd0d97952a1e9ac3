package io.vrsky.producer.sql;

/** A JSON value cannot be written to its column; the message names the column and the reason, not the value. */
public final class ValueConversionException extends Exception {
    private static final long serialVersionUID = 1L;

    public ValueConversionException(String message) {
        super(message);
    }
}
