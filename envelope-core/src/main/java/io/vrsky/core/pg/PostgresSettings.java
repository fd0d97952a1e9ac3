package io.vrsky.core.pg;

import io.vrsky.core.config.Env;
import io.vrsky.core.config.SslMode;

import java.util.Locale;
import java.util.Objects;

/**
 * Where a service's PostgreSQL is and how to log in: {@code POSTGRES_<INPUT|OUTPUT>_HOST},
 * {@code _PORT} (5432), {@code _USER}, {@code _PASSWORD}, {@code _DATABASE}, {@code _SSLMODE}
 * (prefer). {@code password} is a secret: {@link #toString()} leaves it out.
 */
public record PostgresSettings(String host, int port, String user, String password, String database, SslMode sslMode) {

    /** The consumer reads the source database. */
    public static final String INPUT = "INPUT";
    /** The producer writes the sink database. */
    public static final String OUTPUT = "OUTPUT";

    public PostgresSettings {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(sslMode, "sslMode");
        password = password == null ? "" : password;
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port must be 1..65535, was " + port);
        }
    }

    /**
     * Reads {@code POSTGRES_<direction>_*}; every problem goes to {@code env} (reported by its
     * {@code validate()}), and the result is null when a required variable is missing.
     *
     * @param direction {@link #INPUT} or {@link #OUTPUT}
     */
    public static PostgresSettings read(Env env, String direction) {
        boolean input = INPUT.equals(direction);
        if (!input && !OUTPUT.equals(direction)) {
            throw new IllegalArgumentException("direction must be INPUT or OUTPUT, was " + direction);
        }
        String p = "POSTGRES_" + direction + "_";
        String host = env.required(p + "HOST", input ? "the PostgreSQL host to capture changes from" : "the sink PostgreSQL host");
        int port = env.intInRange(p + "PORT", 5432, 1, 65_535);
        String user = env.required(p + "USER", input ? "a role with the REPLICATION privilege" : "the sink PostgreSQL user");
        String password = env.secret(p + "PASSWORD");
        String database = env.required(p + "DATABASE", input ? "the database to capture changes from" : "the sink database name");
        SslMode sslMode = SslMode.read(env, p + "SSLMODE");
        if (host == null || user == null || database == null) {
            return null;
        }
        return new PostgresSettings(host, port, user, password, database, sslMode);
    }

    /** {@code host} as a URL writes it: an IPv6 address in brackets (once). */
    public String urlHost() {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /** {@code jdbc:postgresql://host:port/database}, without credentials. */
    public String jdbcUrl() {
        return "jdbc:postgresql://" + urlHost() + ":" + port + "/" + database;
    }

    /** {@code PostgreSQL at host:port/database}: how logs and readiness name this server (no credentials). */
    public String target() {
        return "PostgreSQL at " + urlHost() + ":" + port + "/" + database;
    }

    @Override
    public String toString() {
        return "PostgresSettings[host=" + host + ", port=" + port + ", user=" + user + ", database=" + database
                + ", sslMode=" + sslMode.name().toLowerCase(Locale.ROOT) + "]";
    }
}
