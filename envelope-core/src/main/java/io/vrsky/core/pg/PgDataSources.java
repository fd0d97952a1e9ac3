package io.vrsky.core.pg;

import com.zaxxer.hikari.HikariConfig;
import org.postgresql.PGProperty;
import org.postgresql.ds.PGSimpleDataSource;

import javax.sql.DataSource;
import java.time.Duration;
import java.util.Properties;

/**
 * How both services connect to PostgreSQL: PgJDBC with a connect timeout, TCP keepalive, the
 * configured sslmode, an application name (visible in {@code pg_stat_activity}) and
 * {@code logServerErrorDetail=false}, so that no exception message carries PostgreSQL's
 * {@code Detail:} line (it quotes row values); plus the HikariCP settings both pools share.
 */
public final class PgDataSources {

    private PgDataSources() {
    }

    /** A data source for pools. */
    public static PGSimpleDataSource dataSource(PostgresSettings pg, String applicationName, Duration connectTimeout) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {pg.host()});
        ds.setPortNumbers(new int[] {pg.port()});
        ds.setDatabaseName(pg.database());
        ds.setUser(pg.user());
        ds.setPassword(pg.password());
        ds.setSslMode(pg.sslMode().jdbcValue());
        ds.setApplicationName(applicationName);
        ds.setConnectTimeout(seconds(connectTimeout));
        ds.setTcpKeepAlive(true);
        ds.setLogServerErrorDetail(false);
        return ds;
    }

    /**
     * The same settings as connection properties, for a direct {@code Driver.connect} (the login
     * check, the replication connection: add {@code replication} and the like to them).
     */
    public static Properties properties(PostgresSettings pg, String applicationName, Duration connectTimeout) {
        Properties props = new Properties();
        PGProperty.USER.set(props, pg.user());
        PGProperty.PASSWORD.set(props, pg.password());
        PGProperty.SSL_MODE.set(props, pg.sslMode().jdbcValue());
        PGProperty.APPLICATION_NAME.set(props, applicationName);
        PGProperty.CONNECT_TIMEOUT.set(props, seconds(connectTimeout));
        PGProperty.TCP_KEEP_ALIVE.set(props, true);
        PGProperty.LOG_SERVER_ERROR_DETAIL.set(props, false);
        return props;
    }

    /**
     * A HikariCP configuration over {@code dataSource}: the pool is created without a connection
     * (the service's own start-up checks PostgreSQL and reports it), and {@code connectionTimeout}
     * bounds each wait for a connection. Callers add what is theirs (auto-commit, keepalive, ...).
     */
    public static HikariConfig pool(DataSource dataSource, String poolName, int maximumPoolSize, Duration connectionTimeout) {
        HikariConfig hc = new HikariConfig();
        hc.setDataSource(dataSource);
        hc.setPoolName(poolName);
        hc.setMaximumPoolSize(maximumPoolSize);
        hc.setConnectionTimeout(connectionTimeout.toMillis());
        hc.setInitializationFailTimeout(-1);
        return hc;
    }

    private static int seconds(Duration d) {
        return (int) Math.max(1, d.toSeconds());
    }
}
