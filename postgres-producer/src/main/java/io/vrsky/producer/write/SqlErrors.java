package io.vrsky.producer.write;

import io.vrsky.core.nats.DeadLetterPublisher.ErrorClass;
import io.vrsky.producer.dlq.Failure;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

import java.io.IOException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.Set;

/**
 * Sorts PostgreSQL failures: retry the transaction (connection lost, deadlock, serialization,
 * server shutting down or starting), blame one message (data, constraint, syntax of a value),
 * refresh the catalog (the table changed under us), or stop (permissions, authentication,
 * resources).
 */
public final class SqlErrors {

    /** What to do about a failure. */
    public enum Kind {
        RETRYABLE, POISON, STALE_CATALOG, FATAL
    }

    private static final Set<String> RETRYABLE_STATES = Set.of("40001", "40P01", "57P01", "57P02", "57P03", "53300", "55P03", "57014");
    private static final Set<String> STALE_STATES = Set.of("42703", "42P01", "42804");
    private static final Set<String> POISON_CLASSES = Set.of("22", "23", "21", "2F", "44", "P0", "02", "0A", "54", "42", "39", "38");

    private SqlErrors() {
    }

    public static Kind classify(Throwable failure) {
        SQLException sql = findSql(failure);
        if (sql == null) {
            return isConnectionProblem(failure) ? Kind.RETRYABLE : Kind.FATAL;
        }
        String state = sqlState(sql);
        if (state == null) {
            return isConnectionProblem(sql) ? Kind.RETRYABLE : Kind.FATAL;
        }
        if (state.startsWith("08") || RETRYABLE_STATES.contains(state)) {
            return Kind.RETRYABLE;
        }
        if (STALE_STATES.contains(state)) {
            return Kind.STALE_CATALOG;
        }
        if ("42501".equals(state)) {
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
        SQLException sql = findSql(failure);
        if (sql == null) {
            return null;
        }
        for (SQLException e = sql; e != null; e = e.getNextException()) {
            if (e.getSQLState() != null) {
                return e.getSQLState();
            }
        }
        Throwable cause = sql.getCause();
        return cause == null || cause == sql ? null : sqlState(cause);
    }

    /**
     * A data failure as a dead letter reports it: PostgreSQL's primary message and the fields of its
     * structured error (constraint, schema, table, column), never the {@code Detail:} line, which
     * quotes row values.
     */
    public static Failure failure(Throwable failure) {
        SQLException sql = findSql(failure);
        for (SQLException e = sql; e != null; e = e.getNextException()) {
            if (e instanceof PSQLException p && p.getServerErrorMessage() != null) {
                ServerErrorMessage m = p.getServerErrorMessage();
                return new Failure(ErrorClass.SQL, m.getMessage(), m.getSQLState(), m.getConstraint(), m.getSchema(), m.getTable(),
                        m.getColumn());
            }
        }
        String message = sql != null ? sql.getMessage() : failure.getMessage();
        String first = message == null ? failure.getClass().getSimpleName() : message.lines().findFirst().orElse("");
        return new Failure(ErrorClass.SQL, first, sqlState(failure), null, null, null, null);
    }

    /** SQLSTATEs of a value that does not fit its column: a column changed by hand may explain them. */
    public static boolean isOutOfRange(String state) {
        return "22003".equals(state) || "22001".equals(state);
    }

    private static SQLException findSql(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException s) {
                return s;
            }
        }
        return null;
    }

    private static boolean isConnectionProblem(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLTransientException || t instanceof SQLRecoverableException || t instanceof IOException) {
                return true;
            }
        }
        return false;
    }
}
