package io.vrsky.producer.sql;

import io.vrsky.producer.catalog.ColumnKind;
import io.vrsky.producer.catalog.ColumnMeta;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds the SQL text of every statement the producer runs, and caches it per
 * {@link StatementShape} (table, kind, column set and their types).
 *
 * <p>Set-based statements take one {@code text[]} parameter per column and {@code unnest} them,
 * casting each element to the column's type, so a run of 1,000 rows is one statement with a fixed
 * text (whatever the row count) that PgJDBC prepares once per connection. Identifiers are always
 * quoted; values are always bind parameters.
 *
 * <p>Thread-safe.
 */
public final class SqlStatementBuilder {

    /** Types without an equality operator: compared as text when matching a before-image. */
    private static final Set<String> NO_EQUALITY = Set.of("xml", "point", "line", "lseg", "box", "path", "polygon", "circle",
            "_json", "_xml", "_point", "_line", "_lseg", "_box", "_path", "_polygon", "_circle");

    private final Map<StatementShape, String> cache;
    private final Map<StatementShape, String> copies;

    public SqlStatementBuilder(int cacheSize) {
        this.cache = lru(cacheSize);
        this.copies = lru(cacheSize);
    }

    private static Map<StatementShape, String> lru(int maxEntries) {
        return Collections.synchronizedMap(new LinkedHashMap<>(64, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<StatementShape, String> eldest) {
                return size() > maxEntries;
            }
        });
    }

    /**
     * {@code COPY "schema"."table" ("a", "b") FROM STDIN}: inserts the shape's columns, as its
     * INSERT would (used for INSERT and, optimistically, UPSERT runs).
     */
    public String copy(StatementShape shape) {
        String cached = copies.get(shape);
        if (cached != null) {
            return cached;
        }
        StringBuilder sb = new StringBuilder(64);
        sb.append("COPY ").append(Identifiers.qualified(shape.table())).append(" (");
        appendNames(sb, shape.columns(), "");
        sb.append(") FROM STDIN");
        String sql = sb.toString();
        copies.put(shape, sql);
        return sql;
    }

    public String sql(StatementShape shape) {
        String cached = cache.get(shape);
        if (cached != null) {
            return cached;
        }
        String sql = build(shape);
        cache.put(shape, sql);
        return sql;
    }

    int cachedStatements() {
        return cache.size();
    }

    static String build(StatementShape s) {
        String table = Identifiers.qualified(s.table());
        return switch (s.kind()) {
            case INSERT -> insert(table, s.columns(), null);
            case UPSERT -> insert(table, s.columns(), s.key());
            case UPDATE_BY_KEY -> updateByKey(table, s.columns(), s.key());
            case DELETE_BY_KEY -> deleteByKey(table, s.key());
            case UPDATE_BY_IDENTITY -> updateByIdentity(table, s.columns(), s.key());
            case DELETE_BY_IDENTITY -> "DELETE FROM " + table + " AS t WHERE (t.tableoid, t.ctid) = (" + firstMatch(table, s.key()) + ")";
            case TRUNCATE -> "TRUNCATE TABLE " + table;
        };
    }

    private static String insert(String table, List<ColumnMeta> columns, List<ColumnMeta> conflictKey) {
        StringBuilder sb = new StringBuilder(128);
        sb.append("INSERT INTO ").append(table).append(" (");
        appendNames(sb, columns, "");
        sb.append(") SELECT ");
        for (int i = 0; i < columns.size(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append("v.c").append(i + 1).append("::").append(columns.get(i).castType());
        }
        sb.append(" FROM unnest(");
        appendArrayParams(sb, columns.size());
        sb.append(") AS v(");
        appendAliases(sb, "c", columns.size());
        sb.append(')');
        if (conflictKey != null) {
            sb.append(" ON CONFLICT (");
            appendNames(sb, conflictKey, "");
            sb.append(") DO ");
            List<ColumnMeta> rest = columns.stream().filter(c -> !conflictKey.contains(c)).toList();
            if (rest.isEmpty()) {
                sb.append("NOTHING");
            } else {
                sb.append("UPDATE SET ");
                for (int i = 0; i < rest.size(); i++) {
                    if (i > 0) {
                        sb.append(", ");
                    }
                    String name = Identifiers.quote(rest.get(i).name());
                    sb.append(name).append(" = EXCLUDED.").append(name);
                }
            }
        }
        return sb.toString();
    }

    private static String updateByKey(String table, List<ColumnMeta> columns, List<ColumnMeta> key) {
        StringBuilder sb = new StringBuilder(160);
        sb.append("UPDATE ").append(table).append(" AS t SET ");
        if (columns.isEmpty()) {
            String first = Identifiers.quote(key.get(0).name());
            sb.append(first).append(" = t.").append(first);
        }
        for (int i = 0; i < columns.size(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(Identifiers.quote(columns.get(i).name())).append(" = v.c").append(i + 1).append("::")
                    .append(columns.get(i).castType());
        }
        sb.append(" FROM unnest(");
        appendArrayParams(sb, columns.size() + key.size());
        sb.append(") WITH ORDINALITY AS v(");
        appendAliases(sb, "c", columns.size());
        if (!columns.isEmpty()) {
            sb.append(", ");
        }
        appendAliases(sb, "k", key.size());
        sb.append(", n) WHERE ");
        appendKeyMatch(sb, key);
        sb.append(" RETURNING v.n");
        return sb.toString();
    }

    private static String deleteByKey(String table, List<ColumnMeta> key) {
        StringBuilder sb = new StringBuilder(120);
        sb.append("DELETE FROM ").append(table).append(" AS t USING unnest(");
        appendArrayParams(sb, key.size());
        sb.append(") AS v(");
        appendAliases(sb, "k", key.size());
        sb.append(") WHERE ");
        appendKeyMatch(sb, key);
        return sb.toString();
    }

    private static String updateByIdentity(String table, List<ColumnMeta> columns, List<ColumnMeta> identity) {
        StringBuilder sb = new StringBuilder(200);
        sb.append("UPDATE ").append(table).append(" AS t SET ");
        if (columns.isEmpty()) {
            String first = Identifiers.quote(identity.get(0).name());
            sb.append(first).append(" = t.").append(first);
        }
        for (int i = 0; i < columns.size(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(Identifiers.quote(columns.get(i).name())).append(" = ?::").append(columns.get(i).castType());
        }
        sb.append(" WHERE (t.tableoid, t.ctid) = (").append(firstMatch(table, identity)).append(')');
        return sb.toString();
    }

    /** The first row whose columns are not distinct from the bound before-image (so duplicates change one at a time). */
    private static String firstMatch(String table, List<ColumnMeta> identity) {
        StringBuilder sb = new StringBuilder(120);
        sb.append("SELECT s.tableoid, s.ctid FROM ").append(table).append(" AS s WHERE ");
        for (int i = 0; i < identity.size(); i++) {
            if (i > 0) {
                sb.append(" AND ");
            }
            ColumnMeta c = identity.get(i);
            String name = "s." + Identifiers.quote(c.name());
            if (c.kind() == ColumnKind.JSON && "json".equals(c.baseType())) {
                sb.append(name).append("::jsonb IS NOT DISTINCT FROM ?::jsonb");
            } else if (NO_EQUALITY.contains(c.baseType())) {
                sb.append(name).append("::text IS NOT DISTINCT FROM ?::").append(c.castType()).append("::text");
            } else {
                sb.append(name).append(" IS NOT DISTINCT FROM ?::").append(c.castType());
            }
        }
        sb.append(" LIMIT 1");
        return sb.toString();
    }

    private static void appendKeyMatch(StringBuilder sb, List<ColumnMeta> key) {
        for (int i = 0; i < key.size(); i++) {
            if (i > 0) {
                sb.append(" AND ");
            }
            sb.append("t.").append(Identifiers.quote(key.get(i).name())).append(" = v.k").append(i + 1).append("::")
                    .append(key.get(i).castType());
        }
    }

    private static void appendNames(StringBuilder sb, List<ColumnMeta> columns, String prefix) {
        for (int i = 0; i < columns.size(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(prefix).append(Identifiers.quote(columns.get(i).name()));
        }
    }

    private static void appendArrayParams(StringBuilder sb, int count) {
        for (int i = 0; i < count; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append("?::text[]");
        }
    }

    private static void appendAliases(StringBuilder sb, String prefix, int count) {
        for (int i = 0; i < count; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(prefix).append(i + 1);
        }
    }
}
