package io.vrsky.producer.dlq;

import io.vrsky.core.model.ErrorReport;
import io.vrsky.core.nats.DeadLetterPublisher.ErrorClass;

import java.util.Objects;

/**
 * Why a source transaction is dead-lettered. Built from PostgreSQL's structured error (primary
 * message, SQLSTATE, constraint, schema, table, column; never its {@code Detail:} line, which
 * quotes row values) or from the producer's own reason.
 */
public record Failure(ErrorClass errorClass, String message, String sqlState, String constraint, String schema, String table,
                      String column) {

    public Failure {
        Objects.requireNonNull(errorClass, "errorClass");
        message = message == null || message.isBlank() ? errorClass.header() + " error" : message;
    }

    /** A failure the producer found itself (no SQLSTATE). */
    public static Failure of(ErrorClass errorClass, String message) {
        return new Failure(errorClass, message, null, null, null, null, null);
    }

    /** The same failure with a longer explanation in front of the message. */
    public Failure prefixed(String prefix) {
        return new Failure(errorClass, prefix + message, sqlState, constraint, schema, table, column);
    }

    /** {@code metadata.error} of the dead letter's envelope. */
    public ErrorReport report() {
        return new ErrorReport(errorClass.header(), message, sqlState, constraint, schema, table, column);
    }

    /**
     * What a WARN line may say: the class and PostgreSQL's structured fields. The message itself
     * only for validation failures, whose reasons the producer writes without row values
     * (PostgreSQL's messages and decode errors may quote a value).
     */
    public String forLog() {
        StringBuilder b = new StringBuilder(errorClass.header());
        append(b, "SQLSTATE", sqlState);
        append(b, "constraint", constraint);
        append(b, "table", table == null ? null : schema == null ? table : schema + "." + table);
        append(b, "column", column);
        if (errorClass == ErrorClass.VALIDATION) {
            b.append(": ").append(message.lines().findFirst().orElse(""));
        }
        return b.toString();
    }

    private static void append(StringBuilder b, String name, String value) {
        if (value != null) {
            b.append(", ").append(name).append(' ').append(value);
        }
    }
}
