package io.vrsky.producer.write;

import io.vrsky.core.pg.PgErrors;

import java.sql.SQLException;
import java.util.Set;

/**
 * Sorts PostgreSQL failures: retry the transaction (connection lost, deadlock, serialization,
 * server shutting down or starting), blame one message (data, constraint, syntax of a value),
 * refresh the catalog (the table changed under us), or stop (permissions, authentication,
 * resources). Which failures are worth retrying, and the SQLSTATE itself, come from
 * {@link PgErrors}, shared with the consumer.
 */
public final class SqlErrors {

    /** What to do about a failure. */
    public enum Kind {
        RETRYABLE, POISON, STALE_CATALOG, FATAL
    }

    private static final Set<String> STALE_STATES = Set.of("42703", "42P01", "42804");
    private static final Set<String> POISON_CLASSES = Set.of("22", "23", "21", "2F", "44", "P0", "02", "0A", "54", "42", "39", "38");

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
        return PgErrors.sqlState(failure);
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
