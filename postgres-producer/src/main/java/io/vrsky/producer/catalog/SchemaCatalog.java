package io.vrsky.producer.catalog;

import io.vrsky.core.model.TableId;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Columns, types and primary keys of sink tables, read from {@code pg_catalog} and cached. An
 * entry is reloaded when it is older than the TTL, and callers {@link #invalidate} it when the
 * table seems to have changed (an unknown column in an envelope, SQLSTATE 42703/42P01/42804).
 * A missing table is cached too (as empty), so a flood of envelopes for it costs no queries.
 *
 * <p>Thread-safe.
 */
public final class SchemaCatalog {

    static final String COLUMNS_SQL = """
            SELECT a.attname, a.attnum, pg_catalog.quote_ident(tn.nspname) || '.' || pg_catalog.quote_ident(t.typname) AS cast_type,
                   bt.typname AS base_type, bt.typcategory AS base_category,
                   et.typname AS element_type, a.attgenerated <> '' AS generated,
                   c.relhasrules OR c.relrowsecurity OR a.attidentity = 'a' AS no_copy,
                   EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r WHERE r.ev_class = c.oid AND r.ev_type IN ('2', '3'))
                       AS no_on_conflict,
                   t.typname AS type_name, a.atttypmod, pg_catalog.format_type(a.atttypid, a.atttypmod) AS sql_type,
                   a.attnotnull, a.atthasdef, a.attidentity <> '' AS is_identity
            FROM pg_catalog.pg_attribute a
            JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
            JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
            JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
            LEFT JOIN pg_catalog.pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
            WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum""";

    static final String PRIMARY_KEY_SQL = """
            SELECT a.attname
            FROM pg_catalog.pg_index i
            JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
            WHERE n.nspname = ? AND c.relname = ? AND i.indisprimary
            ORDER BY k.ord""";

    private record Entry(Optional<TableMeta> table, Instant loadedAt) {
    }

    private final Clock clock;
    private final Duration ttl;
    private final ConcurrentHashMap<TableId, Entry> cache = new ConcurrentHashMap<>();

    private final boolean fixed;

    public SchemaCatalog(Clock clock, Duration ttl) {
        this(clock, ttl, false);
    }

    private SchemaCatalog(Clock clock, Duration ttl, boolean fixed) {
        this.clock = clock;
        this.ttl = ttl;
        this.fixed = fixed;
    }

    /** A catalog that knows exactly these tables and never reads PostgreSQL (for tests and tools). */
    public static SchemaCatalog fixed(List<TableMeta> tables) {
        SchemaCatalog catalog = new SchemaCatalog(Clock.systemUTC(), Duration.ofDays(365_000), true);
        for (TableMeta t : tables) {
            catalog.cache.put(t.id(), new Entry(Optional.of(t), Instant.MIN));
        }
        return catalog;
    }

    /** The table, from the cache when fresh, else from the catalog; empty when it does not exist. */
    public Optional<TableMeta> table(Connection connection, TableId id) throws SQLException {
        Entry entry = cache.get(id);
        if (fixed) {
            return entry == null ? Optional.empty() : entry.table();
        }
        Instant now = clock.instant();
        if (entry != null && entry.loadedAt().plus(ttl).isAfter(now)) {
            return entry.table();
        }
        return reload(connection, id);
    }

    /** Reads the table from the catalog now and caches it. */
    public Optional<TableMeta> reload(Connection connection, TableId id) throws SQLException {
        if (fixed) {
            return table(connection, id);
        }
        Optional<TableMeta> table = load(connection, id);
        cache.put(id, new Entry(table, clock.instant()));
        return table;
    }

    /** What the cache holds for the table now, without reading the catalog (empty when nothing or a missing table). */
    public Optional<TableMeta> cached(TableId id) {
        Entry entry = cache.get(id);
        return entry == null ? Optional.empty() : entry.table();
    }

    public void invalidate(TableId id) {
        if (!fixed) {
            cache.remove(id);
        }
    }

    public void invalidateAll() {
        if (!fixed) {
            cache.clear();
        }
    }

    static Optional<TableMeta> load(Connection connection, TableId id) throws SQLException {
        List<ColumnMeta> columns = new ArrayList<>();
        boolean copySafe = true;
        boolean onConflictAllowed = true;
        try (PreparedStatement ps = connection.prepareStatement(COLUMNS_SQL)) {
            ps.setString(1, id.schema());
            ps.setString(2, id.table());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String baseType = rs.getString("base_type");
                    String category = rs.getString("base_category");
                    String elementType = rs.getString("element_type");
                    ColumnKind kind;
                    ColumnKind elementKind = null;
                    if ("A".equals(category) && elementType != null) {
                        kind = ColumnKind.ARRAY;
                        elementKind = kindOf(elementType);
                    } else {
                        kind = kindOf(baseType);
                    }
                    columns.add(new ColumnMeta(rs.getString("attname"), rs.getInt("attnum"), rs.getString("cast_type"),
                            baseType, kind, elementKind, rs.getBoolean("generated"), rs.getString("type_name"), rs.getInt("atttypmod"),
                            rs.getString("sql_type"), rs.getBoolean("attnotnull"), rs.getBoolean("atthasdef"),
                            rs.getBoolean("is_identity")));
                    copySafe &= !rs.getBoolean("no_copy");
                    onConflictAllowed &= !rs.getBoolean("no_on_conflict");
                }
            }
        }
        if (columns.isEmpty()) {
            return Optional.empty();
        }
        List<String> primaryKey = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement(PRIMARY_KEY_SQL)) {
            ps.setString(1, id.schema());
            ps.setString(2, id.table());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    primaryKey.add(rs.getString(1));
                }
            }
        }
        return Optional.of(new TableMeta(id, columns, primaryKey, copySafe, onConflictAllowed));
    }

    /** How values of a (base) type are converted: bytea, json/jsonb, or as their text. */
    public static ColumnKind kindOf(String typeName) {
        return switch (typeName) {
            case "bytea" -> ColumnKind.BYTEA;
            case "json", "jsonb" -> ColumnKind.JSON;
            default -> ColumnKind.SCALAR;
        };
    }
}
