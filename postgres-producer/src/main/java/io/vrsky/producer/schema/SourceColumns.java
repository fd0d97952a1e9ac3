package io.vrsky.producer.schema;

import io.vrsky.core.model.TableId;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Which sink column each source column (by attnum, which PostgreSQL keeps across renames) maps to,
 * per source and table: the sink table {@value #TABLE}, written in the same sink transaction as the
 * changes that teach it, and cached. A rename at the source shows as a known attnum with a new name.
 *
 * <p>Changes made in the open sink transaction are kept apart until it commits ({@link #committed()})
 * and dropped when it rolls back ({@link #rolledBack()}). Used by the loop thread only.
 */
final class SourceColumns {

    static final String TABLE = "vrsky_source_columns";

    static final String CREATE_SQL = "CREATE TABLE IF NOT EXISTS public." + TABLE + " (source text NOT NULL, table_name text NOT NULL,"
            + " attnum integer NOT NULL, column_name text NOT NULL, PRIMARY KEY (source, table_name, attnum))";
    static final String SELECT_SQL = "SELECT attnum, column_name FROM public." + TABLE + " WHERE source = ? AND table_name = ?";
    static final String UPSERT_SQL = "INSERT INTO public." + TABLE + " (source, table_name, attnum, column_name) VALUES (?, ?, ?, ?)"
            + " ON CONFLICT (source, table_name, attnum) DO UPDATE SET column_name = EXCLUDED.column_name";
    static final String DELETE_SQL = "DELETE FROM public." + TABLE + " WHERE source = ? AND table_name = ? AND attnum = ?";

    private record Key(String source, TableId table) {
    }

    private final Map<Key, Map<Integer, String>> committed = new HashMap<>();
    private final Map<Key, Map<Integer, String>> pending = new HashMap<>();

    /** Creates the table when it does not exist yet. */
    static void createTable(Connection connection) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute(CREATE_SQL);
        }
    }

    /** The mapping of a source's table (attnum → sink column name), as the open sink transaction sees it. */
    Map<Integer, String> mapping(Connection connection, String source, TableId table) throws SQLException {
        Key key = new Key(source, table);
        Map<Integer, String> open = pending.get(key);
        if (open != null) {
            return Map.copyOf(open);
        }
        Map<Integer, String> known = committed.get(key);
        if (known == null) {
            known = new HashMap<>();
            try (PreparedStatement ps = connection.prepareStatement(SELECT_SQL)) {
                ps.setString(1, source);
                ps.setString(2, table.toString());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        known.put(rs.getInt(1), rs.getString(2));
                    }
                }
            }
            committed.put(key, known);
        }
        return Map.copyOf(known);
    }

    /** Records attnums under (new) names and forgets attnums the source dropped, in the open sink transaction. */
    void record(Connection connection, String source, TableId table, Map<Integer, String> puts, Set<Integer> drops)
            throws SQLException {
        if (puts.isEmpty() && drops.isEmpty()) {
            return;
        }
        Key key = new Key(source, table);
        Map<Integer, String> next = new HashMap<>(mapping(connection, source, table));
        if (!puts.isEmpty()) {
            try (PreparedStatement ps = connection.prepareStatement(UPSERT_SQL)) {
                for (Map.Entry<Integer, String> e : puts.entrySet()) {
                    ps.setString(1, source);
                    ps.setString(2, table.toString());
                    ps.setInt(3, e.getKey());
                    ps.setString(4, e.getValue());
                    ps.addBatch();
                    next.put(e.getKey(), e.getValue());
                }
                ps.executeBatch();
            }
        }
        if (!drops.isEmpty()) {
            try (PreparedStatement ps = connection.prepareStatement(DELETE_SQL)) {
                for (Integer attnum : drops) {
                    ps.setString(1, source);
                    ps.setString(2, table.toString());
                    ps.setInt(3, attnum);
                    ps.addBatch();
                    next.remove(attnum);
                }
                ps.executeBatch();
            }
        }
        pending.put(key, next);
    }

    /** The open sink transaction committed: what it recorded is the mapping now. */
    void committed() {
        committed.putAll(pending);
        pending.clear();
    }

    /**
     * The open sink transaction rolled back: what it recorded is gone.
     *
     * @return the tables it had recorded something for
     */
    Set<TableId> rolledBack() {
        Set<TableId> tables = new LinkedHashSet<>();
        pending.keySet().forEach(k -> tables.add(k.table()));
        pending.clear();
        return tables;
    }
}
