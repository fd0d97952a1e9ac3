package io.vrsky.consumer.replication;

import io.vrsky.consumer.encode.RelationCache;
import io.vrsky.consumer.encode.TypeCatalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.sql.DataSource;

/** The catalog lookups decoding needs, on the small non-replication pool. */
public final class CatalogQueries implements TypeCatalog, RelationCache.PrimaryKeyLookup {

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
