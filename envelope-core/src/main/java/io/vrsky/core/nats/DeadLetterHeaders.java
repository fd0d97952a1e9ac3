package io.vrsky.core.nats;

/** Header names of dead letters, as DESIGN.md fixes them. */
public final class DeadLetterHeaders {
    public static final String ERROR = "Vrsky-Error";
    public static final String ERROR_CLASS = "Vrsky-Error-Class";
    public static final String SQL_STATE = "Vrsky-Sql-State";
    public static final String SOURCE_SUBJECT = "Vrsky-Source-Subject";
    public static final String SOURCE_SEQUENCE = "Vrsky-Source-Sequence";

    private DeadLetterHeaders() {
    }
}
