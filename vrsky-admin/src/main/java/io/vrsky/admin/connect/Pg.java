package io.vrsky.admin.connect;

import io.vrsky.admin.AdminExit;
import io.vrsky.admin.AdminFailure;
import io.vrsky.core.pg.PgDataSources;
import io.vrsky.core.pg.PgErrors;
import io.vrsky.core.pg.PostgresLogin;
import io.vrsky.core.pg.PostgresSettings;
import org.postgresql.PGProperty;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;

/**
 * One direct PgJDBC connection (no pool) to the source or the sink, opened the way the services
 * open theirs ({@code logServerErrorDetail=false}, so no error text quotes row values), with every
 * failure turned into one line naming the server and quoting PostgreSQL's own message.
 */
public final class Pg implements AutoCloseable {

    static final String APPLICATION_NAME = "vrsky-admin";
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final PostgresSettings settings;
    private final Connection connection;

    private Pg(PostgresSettings settings, Connection connection) {
        this.settings = settings;
        this.connection = connection;
    }

    /**
     * Logs in within {@link PostgresLogin#LOGIN_TIMEOUT}.
     *
     * @throws AdminFailure exit 3: {@code PostgreSQL at h:5432/db refused the login: FATAL: ...} or
     *                      {@code PostgreSQL at h:5432/db unreachable: Connection to h:5432 refused ...}
     */
    public static Pg open(PostgresSettings settings) throws AdminFailure {
        Properties props = PgDataSources.properties(settings, APPLICATION_NAME, CONNECT_TIMEOUT);
        PGProperty.LOGIN_TIMEOUT.set(props, (int) PostgresLogin.LOGIN_TIMEOUT.toSeconds());
        try {
            Connection c = new org.postgresql.Driver().connect(settings.jdbcUrl(), props);
            if (c == null) {
                throw new AdminFailure(AdminExit.USAGE, "PgJDBC does not accept " + settings.jdbcUrl());
            }
            return new Pg(settings, c);
        } catch (SQLException e) {
            String verb = PgErrors.isLoginOrMissingDatabase(e) ? " refused the login: " : " unreachable: ";
            throw new AdminFailure(AdminExit.DEPENDENCY, settings.target() + verb + PgErrors.serverMessage(e));
        }
    }

    public Connection connection() {
        return connection;
    }

    public PostgresSettings settings() {
        return settings;
    }

    /** {@code PostgreSQL at h:5432/db: <doing>: <PostgreSQL's message>} as a failure with exit 3. */
    public AdminFailure failure(String doing, SQLException e) {
        return new AdminFailure(AdminExit.DEPENDENCY, describe(doing, e));
    }

    /** {@code PostgreSQL at h:5432/db: <doing>: <PostgreSQL's message>}. */
    public String describe(String doing, SQLException e) {
        return settings.target() + ": " + doing + ": " + PgErrors.serverMessage(e);
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            // closing a connection we only read from: nothing is lost, and the process ends next
        }
    }
}
