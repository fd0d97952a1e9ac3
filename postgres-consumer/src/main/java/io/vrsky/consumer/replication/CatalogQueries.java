package io.vrsky.consumer.replication;

import io.vrsky.consumer.encode.ColumnCatalog;
import io.vrsky.consumer.encode.RelationCache;
import io.vrsky.consumer.encode.TypeCatalog;
import io.vrsky.consumer.pgoutput.PgOutputMessage.RelationColumn;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.sql.DataSource;

/**
 * The catalog lookups decoding needs, on the small non-replication pool: types, and once per
 * Relation message its columns' attnum, type text, NOT NULL, default, missing value and primary key.
 */
public final class CatalogQueries implements TypeCatalog, ColumnCatalog, RelationCache.PrimaryKeyLookup {

    /** The rows of the given types and, transitively, of their element and base types. */
    private static final String TYPES = """
            WITH RECURSIVE wanted(oid) AS (
                SELECT unnest(CAST(? AS oid[]))
              UNION
                SELECT x.oid FROM pg_type p JOIN wanted w ON p.oid = w.oid
                CROSS JOIN LATERAL (VALUES (p.typelem), (p.typbasetype)) AS x(oid)
                WHERE x.oid <> 0
            )
            SELECT p.oid, p.typname, p.typtype, p.typcategory, p.typelem, p.typbasetype, p.typdelim,
                   p.typnamespace = 'pg_catalog'::regnamespace AS builtin
            FROM pg_type p JOIN wanted w ON p.oid = w.oid""";

    /**
     * The columns of a Relation message as the catalog has them now, matched by name, in the
     * message's order: the type text is built from the message's own type OID and modifier (as the
     * stream describes the column); the rest is the live column's. {@code attmissingval} exists
     * from PostgreSQL 11 on.
     */
    static String columnsSql(boolean missingValues) {
        return """
                SELECT pg_catalog.format_type(m.typ, m.typmod), a.attnum, a.attnotnull,
                       pg_catalog.pg_get_expr(d.adbin, d.adrelid), %s,
                       COALESCE(a.attnum = ANY (i.indkey), false)
                FROM unnest(CAST(? AS text[]), CAST(? AS oid[]), CAST(? AS int4[])) WITH ORDINALITY AS m(name, typ, typmod, ord)
                LEFT JOIN pg_catalog.pg_attribute a
                       ON a.attrelid = CAST(? AS oid) AND a.attname = m.name AND a.attnum > 0 AND NOT a.attisdropped
                LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                LEFT JOIN pg_catalog.pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
                ORDER BY m.ord""".formatted(missingValues ? "CASE WHEN a.atthasmissing THEN a.attmissingval::text END" : "NULL");
    }

    private static final String PRIMARY_KEY = """
            SELECT a.attname FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
            WHERE i.indrelid = CAST(? AS oid) AND i.indisprimary""";

    private final DataSource dataSource;

    public CatalogQueries(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public Map<Integer, TypeRow> load(Collection<Integer> oids) throws SQLException {
        String array = oids.stream().map(Integer::toUnsignedString).collect(Collectors.joining(",", "{", "}"));
        Map<Integer, TypeRow> rows = new HashMap<>();
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(TYPES)) {
            ps.setString(1, array);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int oid = (int) rs.getLong(1);
                    rows.put(oid, new TypeRow(oid, rs.getString(2), first(rs.getString(3)), first(rs.getString(4)),
                            (int) rs.getLong(5), (int) rs.getLong(6), first(rs.getString(7)), rs.getBoolean(8)));
                }
            }
        }
        return rows;
    }

    @Override
    public List<ColumnRow> describe(int relationId, List<RelationColumn> columns) throws SQLException {
        String[] names = new String[columns.size()];
        StringBuilder oids = new StringBuilder("{");
        StringBuilder typmods = new StringBuilder("{");
        for (int i = 0; i < columns.size(); i++) {
            RelationColumn c = columns.get(i);
            names[i] = c.name();
            oids.append(i == 0 ? "" : ",").append(Integer.toUnsignedString(c.typeOid()));
            typmods.append(i == 0 ? "" : ",").append(c.typeModifier());
        }
        List<ColumnRow> rows = new ArrayList<>(columns.size());
        try (Connection c = dataSource.getConnection()) {
            boolean missingValues = c.getMetaData().getDatabaseMajorVersion() >= 11;
            try (PreparedStatement ps = c.prepareStatement(columnsSql(missingValues))) {
                Array array = c.createArrayOf("text", names);
                ps.setArray(1, array);
                ps.setString(2, oids.append('}').toString());
                ps.setString(3, typmods.append('}').toString());
                ps.setString(4, Integer.toUnsignedString(relationId));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long attnum = rs.getLong(2);
                        boolean found = !rs.wasNull();
                        rows.add(new ColumnRow(rs.getString(1), found ? (int) attnum : null, found && rs.getBoolean(3),
                                rs.getString(4), rs.getString(5), rs.getBoolean(6)));
                    }
                }
                array.free();
            }
        }
        return rows;
    }

    @Override
    public Set<String> primaryKey(int relationId) throws SQLException {
        Set<String> names = new HashSet<>();
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(PRIMARY_KEY)) {
            ps.setString(1, Integer.toUnsignedString(relationId));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
        }
        return names;
    }

    private static char first(String s) {
        return s == null || s.isEmpty() ? '\0' : s.charAt(0);
    }
}
