package io.vrsky.core.pg;

import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

import java.io.IOException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.Set;

/**
 * The one place that sorts PostgreSQL failures by SQLSTATE (looked up through the whole cause
 * chain, HikariCP's wrappers included): worth retrying, refusing us for good, or neither (the
 * caller decides: a data error, a stale catalog, ...). Also reads PostgreSQL's own message without
 * the {@code Detail:} line, which may quote row values.
 *
 * <p>Stateless and thread-safe.
 */
public final class PgErrors {

    /** The connection or the transaction may succeed when tried again. Class 08 (connection exception) too. */
    private static final Set<String> RETRYABLE = Set.of(
            "40001", // SERIALIZATION FAILURE
            "40P01", // DEADLOCK DETECTED
            "57P01", // ADMIN SHUTDOWN
            "57P02", // CRASH SHUTDOWN
            "57P03", // CANNOT CONNECT NOW (starting up, in recovery)
            "53300", // TOO MANY CONNECTIONS
            "55P03", // LOCK NOT AVAILABLE
            "57014"  // QUERY CANCELED (statement timeout, pg_cancel_backend)
    );

    /** The server refuses this login; retrying with the same settings cannot help. Class 28 too. */
    private static final Set<String> LOGIN_REFUSED = Set.of(
            "3D000"  // INVALID CATALOG NAME: the database does not exist
    );

    /** Refusals that need an operator, beyond the login. */
    private static final Set<String> PERMANENT = Set.of(
            "42501"  // INSUFFICIENT PRIVILEGE
    );

    private PgErrors() {
    }

    /**
     * Connection problems (class 08, I/O errors, pool timeouts without a server answer), deadlocks,
     * serialization failures, a server shutting down or starting, too many connections, a lock or
     * statement timeout.
     */
    public static boolean isRetryable(Throwable failure) {
        String state = sqlState(failure);
        if (state != null) {
            return state.startsWith("08") || RETRYABLE.contains(state);
        }
        return isConnectionProblem(failure);
    }

    /** The server refused the login (class 28: role, password, pg_hba.conf) or the database does not exist (3D000). */
    public static boolean isLoginOrMissingDatabase(Throwable failure) {
        String state = sqlState(failure);
        return state != null && (state.startsWith("28") || LOGIN_REFUSED.contains(state));
    }

    /** {@link #isLoginOrMissingDatabase} or a missing privilege (42501): an operator has to act. */
    public static boolean isPermanent(Throwable failure) {
        String state = sqlState(failure);
        return state != null && (isLoginOrMissingDatabase(failure) || PERMANENT.contains(state));
    }

    /**
     * The SQLSTATE of the first SQLException in the cause chain that has one (chained "next"
     * exceptions of a batch included), or null.
     */
    public static String sqlState(Throwable failure) {
        for (Throwable t = failure; t != null; t = next(t)) {
            if (t instanceof SQLException sql) {
                for (SQLException e = sql; e != null; e = e.getNextException()) {
                    if (e.getSQLState() != null) {
                        return e.getSQLState();
                    }
                }
            }
        }
        return null;
    }

    /**
     * PostgreSQL's primary message as psql prints it, {@code SEVERITY: message} (e.g.
     * {@code FATAL: role "x" does not exist}), never the {@code Detail:} line (it may quote row
     * values). When no error from the server is in the cause chain: the first line of the
     * innermost SQLException's message (the real cause under a pool's wrapper), else of the
     * failure's own message (or its class name when it has none).
     */
    public static String serverMessage(Throwable failure) {
        Throwable innermostSql = null;
        for (Throwable t = failure; t != null; t = next(t)) {
            if (t instanceof SQLException sql) {
                innermostSql = sql;
                for (SQLException e = sql; e != null; e = e.getNextException()) {
                    ServerErrorMessage m = e instanceof PSQLException p ? p.getServerErrorMessage() : null;
                    if (m != null) {
                        String message = m.getMessage() == null ? "" : m.getMessage();
                        return m.getSeverity() == null ? message : m.getSeverity() + ": " + message;
                    }
                }
            }
        }
        return firstLine(innermostSql != null ? innermostSql : failure);
    }

    private static String firstLine(Throwable failure) {
        String message = failure.getMessage();
        if (message == null || message.isBlank()) {
            return failure.getClass().getSimpleName();
        }
        int end = message.indexOf('\n');
        return (end < 0 ? message : message.substring(0, end)).trim();
    }

    private static boolean isConnectionProblem(Throwable failure) {
        for (Throwable t = failure; t != null; t = next(t)) {
            if (t instanceof SQLTransientException || t instanceof SQLRecoverableException || t instanceof IOException) {
                return true;
            }
        }
        return false;
    }

    private static Throwable next(Throwable t) {
        return t.getCause() == t ? null : t.getCause();
    }
}
