package io.vrsky.producer.catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The producer's own bookkeeping tables in the sink's {@code public} schema. They are created only
 * when missing: PostgreSQL checks the CREATE privilege on the schema before it looks at
 * {@code IF NOT EXISTS}, so a role that lost that privilege after the first start (PostgreSQL 15
 * revokes it from PUBLIC) would otherwise fail at every start although the tables are there.
 */
public final class OwnTables {

    private OwnTables() {
    }

    /** Runs {@code createSql} when {@code public.<table>} does not exist. */
    public static void createIfMissing(Connection connection, String table, String createSql) throws SQLException {
        if (!exists(connection, table, null)) {
            try (Statement s = connection.createStatement()) {
                s.execute(createSql);
            }
        }
    }

    /** Runs {@code alterSql} when {@code public.<table>} lacks {@code column}. */
    public static void addColumnIfMissing(Connection connection, String table, String column, String alterSql) throws SQLException {
        if (!exists(connection, table, column)) {
            try (Statement s = connection.createStatement()) {
                s.execute(alterSql);
            }
        }
    }

    private static boolean exists(Connection connection, String table, String column) throws SQLException {
        String sql = column == null
                ? "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                        + " WHERE n.nspname = 'public' AND c.relname = ? AND c.relkind IN ('r', 'p')"
                : "SELECT 1 FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
                        + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname = ?"
                        + " AND a.attname = ? AND a.attnum > 0 AND NOT a.attisdropped";
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            ps.setString(1, table);
            if (column != null) {
                ps.setString(2, column);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
