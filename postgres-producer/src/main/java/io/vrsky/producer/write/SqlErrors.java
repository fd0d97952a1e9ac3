package io.vrsky.producer.write;

import io.vrsky.core.nats.DeadLetterPublisher.ErrorClass;
import io.vrsky.core.pg.PgErrors;
import io.vrsky.producer.dlq.Failure;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

import java.sql.SQLException;
import java.util.Set;

/**
 * Sorts PostgreSQL failures for the writers: retry the transaction (connection lost, deadlock,
 * serialization, server shutting down or starting), blame one source transaction (data,
 * constraint, syntax of a value), refresh the catalog (the table changed under us), or stop
 * (permissions, authentication, resources). Which failures are worth retrying, and the SQLSTATE
 * itself, come from {@link PgErrors}, shared with the consumer. Also builds the {@link Failure} a
 * dead letter reports, from PostgreSQL's structured error.
 */
public final class SqlErrors {

    /** What to do about a failure. */
    public enum Kind {
        RETRYABLE, POISON, STALE_CATALOG, FATAL
    }

    /** The sink table is not what the cached catalog says. */
    private static final Set<String> STALE_STATES = Set.of(
            "42703", // UNDEFINED COLUMN
            "42P01", // UNDEFINED TABLE
            "42804"  // DATATYPE MISMATCH
    );
    /** SQLSTATE classes a transaction's own data explains. */
    private static final Set<String> POISON_CLASSES = Set.of(
            "22", // DATA EXCEPTION (out of range, invalid text representation, too long, ...)
            "23", // INTEGRITY CONSTRAINT VIOLATION
            "21", // CARDINALITY VIOLATION (ON CONFLICT touching a row twice)
            "2F", // SQL ROUTINE EXCEPTION (in a trigger)
            "44", // WITH CHECK OPTION VIOLATION
            "P0", // PL/pgSQL RAISE and ASSERT (in a trigger)
            "02", // NO DATA (a missing row under the UPDATE strategy)
            "0A", // FEATURE NOT SUPPORTED (a statement a rule refuses)
            "54", // PROGRAM LIMIT EXCEEDED (a value too large for an index)
            "42", // SYNTAX ERROR OR ACCESS RULE VIOLATION (but 42501)
            "39", // EXTERNAL ROUTINE INVOCATION EXCEPTION (in a trigger)
            "38"  // EXTERNAL ROUTINE EXCEPTION (in a trigger)
    );
    private static final String INSUFFICIENT_PRIVILEGE = "42501";
    private static final String NUMERIC_VALUE_OUT_OF_RANGE = "22003";
    private static final String STRING_DATA_RIGHT_TRUNCATION = "22001";

    private SqlErrors() {
    }

    public static Kind classify(Throwable failure) {
        if (PgErrors.isRetryable(failure)) {
            return Kind.RETRYABLE;
        }
        String state = PgErrors.sqlState(failure);
        if (state == null) {
            return Kind.FATAL;
        }
        if (STALE_STATES.contains(state)) {
            return Kind.STALE_CATALOG;
        }
        if (INSUFFICIENT_PRIVILEGE.equals(state)) {
            return Kind.FATAL;
        }
        if (state.length() >= 2 && POISON_CLASSES.contains(state.substring(0, 2))) {
            return Kind.POISON;
        }
        return Kind.FATAL;
    }

    /** Whether the failure came from PostgreSQL or its pool (an SQLException in the cause chain). */
    public static boolean isPostgresFailure(Throwable failure) {
        return findSql(failure) != null;
    }

    public static boolean isRetryable(Throwable failure) {
        return classify(failure) == Kind.RETRYABLE;
    }

    /** The SQLSTATE of the first SQLException in the cause chain (or of a chained next exception). */
    public static String sqlState(Throwable failure) {
        return PgErrors.sqlState(failure);
    }

    /** SQLSTATEs of a value that does not fit its column: a column changed by hand may explain them. */
    public static boolean isOutOfRange(String state) {
        return NUMERIC_VALUE_OUT_OF_RANGE.equals(state) || STRING_DATA_RIGHT_TRUNCATION.equals(state);
    }

    /**
     * A data failure as a dead letter reports it: PostgreSQL's primary message and the fields of its
     * structured error (constraint, schema, table, column), never the {@code Detail:} line, which
     * quotes row values.
     */
    public static Failure failure(Throwable failure) {
        SQLException sql = findSql(failure);
        for (SQLException e = sql; e != null; e = e.getNextException()) {
            ServerErrorMessage m = e instanceof PSQLException p ? p.getServerErrorMessage() : null;
            if (m != null) {
                return new Failure(ErrorClass.SQL, m.getMessage(), m.getSQLState(), m.getConstraint(), m.getSchema(), m.getTable(),
                        m.getColumn());
            }
        }
        String message = sql != null ? sql.getMessage() : failure.getMessage();
        String first = message == null ? failure.getClass().getSimpleName() : message.lines().findFirst().orElse("");
        return new Failure(ErrorClass.SQL, first, sqlState(failure), null, null, null, null);
    }

    private static SQLException findSql(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException s) {
                return s;
            }
        }
        return null;
    }
}
