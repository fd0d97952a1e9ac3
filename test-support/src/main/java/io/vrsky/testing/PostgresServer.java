package io.vrsky.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A PostgreSQL server with {@code wal_level=logical} for integration tests. Tests create their own
 * database with {@link #createDatabase(String)} so that slots, publications and tables never clash.
 */
public final class PostgresServer {

    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final String adminDatabase;
    private final ServerControl control;
    private final AtomicInteger counter = new AtomicInteger();

    PostgresServer(String host, int port, String user, String password, String adminDatabase, ServerControl control) {
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.adminDatabase = adminDatabase;
        this.control = control;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    public Connection connect(String database) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        return DriverManager.getConnection(jdbcUrl(database), props);
    }

    /** Creates a fresh database named {@code <prefix>_<n>_<pid>} and returns its name. */
    public String createDatabase(String prefix) throws SQLException {
        String name = (prefix.toLowerCase().replaceAll("[^a-z0-9_]", "_") + "_" + counter.incrementAndGet() + "_"
                + ProcessHandle.current().pid());
        try (Connection c = connect(adminDatabase); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        return name;
    }

    /** Environment variables that point a consumer ({@code INPUT}) or producer ({@code OUTPUT}) here. */
    public java.util.Map<String, String> envFor(String direction, String database) {
        String p = "POSTGRES_" + direction + "_";
        return java.util.Map.of(p + "HOST", host, p + "PORT", Integer.toString(port), p + "USER", user,
                p + "PASSWORD", password, p + "DATABASE", database, p + "SSLMODE", "disable");
    }

    /** Whether this server can be stopped and started by tests (not when given by URL). */
    public boolean controllable() {
        return control.controllable();
    }

    /** Stops the server at once, like a crash (pg_ctl stop -m immediate). */
    public void crash() {
        control.stop();
    }

    /** Starts the server again after {@link #crash()}, on the same port and data. */
    public void start() {
        control.start();
    }
}
