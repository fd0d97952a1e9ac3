package io.vrsky.core.nats;

/** Header names of dead letters: part of the wire format. */
public final class DeadLetterHeaders {
    /** Why: one line, never row values (PostgreSQL's primary message, not its Detail line). */
    public static final String ERROR = "Vrsky-Error";
    /** decode | validation | sql | publish. */
    public static final String ERROR_CLASS = "Vrsky-Error-Class";
    public static final String SQL_STATE = "Vrsky-Sql-State";
    public static final String SOURCE_SUBJECT = "Vrsky-Source-Subject";
    public static final String SOURCE_SEQUENCE = "Vrsky-Source-Sequence";
    /** The dead-lettered transaction's id, when known. */
    public static final String TX_ID = CdcHeaders.TX_ID;
    /** The dead-lettered transaction's commit LSN, when known. */
    public static final String COMMIT_LSN = CdcHeaders.COMMIT_LSN;
    /** Makes a re-sent dead letter a JetStream duplicate. */
    public static final String MSG_ID = CdcHeaders.MSG_ID;
    /** Set when the body was left out because it exceeded the server's max payload: what it was. */
    public static final String BODY_OMITTED = "Vrsky-Body-Omitted";

    private DeadLetterHeaders() {
    }
}
