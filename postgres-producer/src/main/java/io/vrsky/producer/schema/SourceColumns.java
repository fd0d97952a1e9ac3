package io.vrsky.producer.schema;

import io.vrsky.core.model.TableId;

import io.vrsky.producer.catalog.OwnTables;
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
 * and the source type last seen for it, per source and table: the sink table {@value #TABLE},
 * written in the same sink transaction as the changes that teach it, and cached. A rename at the
 * source shows as a known attnum with a new name; a narrowing as a recorded type wider than the
 * one described now.
 *
 * <p>Changes made in the open sink transaction are kept apart until it commits ({@link #committed()})
 * and dropped when it rolls back ({@link #rolledBack()}). Used by the loop thread only.
 */
final class SourceColumns {

    static final String TABLE = "vrsky_source_columns";

    static final String CREATE_SQL = "CREATE TABLE IF NOT EXISTS public." + TABLE + " (source text NOT NULL, table_name text NOT NULL,"
            + " attnum integer NOT NULL, column_name text NOT NULL, source_type text, source_typmod integer,"
            + " PRIMARY KEY (source, table_name, attnum))";
    /** A table created by an earlier version has no type columns yet. */
    static final String UPGRADE_SQL = "ALTER TABLE public." + TABLE + " ADD COLUMN IF NOT EXISTS source_type text,"
            + " ADD COLUMN IF NOT EXISTS source_typmod integer";
    static final String SELECT_SQL = "SELECT attnum, column_name, source_type, source_typmod FROM public." + TABLE
            + " WHERE source = ? AND table_name = ?";
    static final String UPSERT_SQL = "INSERT INTO public." + TABLE + " (source, table_name, attnum, column_name, source_type,"
            + " source_typmod) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, table_name, attnum) DO UPDATE SET column_name ="
            + " EXCLUDED.column_name, source_type = EXCLUDED.source_type, source_typmod = EXCLUDED.source_typmod";
    static final String DELETE_SQL = "DELETE FROM public." + TABLE + " WHERE source = ? AND table_name = ? AND attnum = ?";

    private record Key(String source, TableId table) {
    }

    /** What is recorded for one source attnum; {@code type} null when not known yet. */
    private record Entry(String column, SourceType type) {
    }

    private final Map<Key, Map<Integer, Entry>> committed = new HashMap<>();
    private final Map<Key, Map<Integer, Entry>> pending = new HashMap<>();

    /** Creates the table when it does not exist yet, and adds what an earlier version's table lacks. */
    static void createTable(Connection connection) throws SQLException {
        OwnTables.createIfMissing(connection, TABLE, CREATE_SQL);
        OwnTables.addColumnIfMissing(connection, TABLE, "source_typmod", UPGRADE_SQL);
    }

    /** The mapping of a source's table (attnum → sink column name), as the open sink transaction sees it. */
    Map<Integer, String> mapping(Connection connection, String source, TableId table) throws SQLException {
        Map<Integer, String> names = new HashMap<>();
        entries(connection, source, table).forEach((attnum, e) -> names.put(attnum, e.column()));
        return Map.copyOf(names);
    }

    /** The source types recorded with the mapping (attnum → type), as the open sink transaction sees them. */
    Map<Integer, SourceType> types(Connection connection, String source, TableId table) throws SQLException {
        Map<Integer, SourceType> types = new HashMap<>();
        entries(connection, source, table).forEach((attnum, e) -> {
            if (e.type() != null) {
                types.put(attnum, e.type());
            }
        });
        return Map.copyOf(types);
    }

    private Map<Integer, Entry> entries(Connection connection, String source, TableId table) throws SQLException {
        Key key = new Key(source, table);
        Map<Integer, Entry> open = pending.get(key);
        if (open != null) {
            return open;
        }
        Map<Integer, Entry> known = committed.get(key);
        if (known == null) {
            known = new HashMap<>();
            try (PreparedStatement ps = connection.prepareStatement(SELECT_SQL)) {
                ps.setString(1, source);
                ps.setString(2, table.toString());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String type = rs.getString(3);
                        int typmod = rs.getInt(4);
                        known.put(rs.getInt(1), new Entry(rs.getString(2), type == null ? null : new SourceType(type,
                                rs.wasNull() ? -1 : typmod)));
                    }
                }
            }
            committed.put(key, known);
        }
        return known;
    }

    /**
     * Records attnums under (new) names and types, and forgets attnums the source dropped, in the
     * open sink transaction. A type is recorded only for an attnum mapped now or by {@code puts}.
     */
    void record(Connection connection, String source, TableId table, Map<Integer, String> puts, Set<Integer> drops,
                Map<Integer, SourceType> typePuts) throws SQLException {
        if (puts.isEmpty() && drops.isEmpty() && typePuts.isEmpty()) {
            return;
        }
        Key key = new Key(source, table);
        Map<Integer, Entry> next = new HashMap<>(entries(connection, source, table));
        Set<Integer> touchedAttnums = new java.util.TreeSet<>(puts.keySet());
        touchedAttnums.addAll(typePuts.keySet());
        try (PreparedStatement ps = connection.prepareStatement(UPSERT_SQL)) {
            boolean any = false;
            for (Integer attnum : touchedAttnums) {
                Entry before = next.get(attnum);
                String column = puts.containsKey(attnum) ? puts.get(attnum) : before == null ? null : before.column();
                if (column == null) {
                    continue;
                }
                SourceType type = typePuts.containsKey(attnum) ? typePuts.get(attnum) : before == null ? null : before.type();
                ps.setString(1, source);
                ps.setString(2, table.toString());
                ps.setInt(3, attnum);
                ps.setString(4, column);
                ps.setString(5, type == null ? null : type.typeName());
                if (type == null) {
                    ps.setNull(6, java.sql.Types.INTEGER);
                } else {
                    ps.setInt(6, type.typmod());
                }
                ps.addBatch();
                next.put(attnum, new Entry(column, type));
                any = true;
            }
            if (any) {
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
