package io.vrsky.core.pg;

import io.vrsky.core.service.ExitCode;
import io.vrsky.core.service.ServiceFailure;
import org.postgresql.PGProperty;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;

/**
 * Logs in to PostgreSQL once, directly with PgJDBC (no pool, whose timeout would hide the
 * server's answer), before a service touches anything else. Both services run it first at start.
 */
public final class PostgresLogin {

    /** The whole login (TCP connect, TLS, authentication) is given up after this. */
    public static final Duration LOGIN_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private PostgresLogin() {
    }

    /**
     * Opens and closes one connection within {@link #LOGIN_TIMEOUT}.
     *
     * @throws ServiceFailure exit 3 when the server refuses the login or the database does not
     *                        exist: {@code PostgreSQL at host:port/db refused the login: FATAL: role "x" does not exist}
     * @throws SQLException   when the server cannot be reached (retryable: the caller's
     *                        dependency retry decides how long to keep trying) or fails otherwise
     */
    public static void check(PostgresSettings pg, String applicationName) throws ServiceFailure, SQLException {
        Properties props = PgDataSources.properties(pg, applicationName, CONNECT_TIMEOUT);
        PGProperty.LOGIN_TIMEOUT.set(props, (int) LOGIN_TIMEOUT.toSeconds());
        try (Connection c = new org.postgresql.Driver().connect(pg.jdbcUrl(), props)) {
            if (c == null) {
                throw new SQLException("PgJDBC did not accept " + pg.jdbcUrl(), "08001");
            }
        } catch (SQLException e) {
            if (PgErrors.isLoginOrMissingDatabase(e)) {
                throw new ServiceFailure(ExitCode.DEPENDENCY, pg.target() + " refused the login: " + PgErrors.serverMessage(e), e);
            }
            throw e;
        }
    }
}
