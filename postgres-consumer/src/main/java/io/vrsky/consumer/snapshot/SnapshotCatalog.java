package io.vrsky.consumer.snapshot;

import io.vrsky.consumer.encode.RelationInfo;
import io.vrsky.consumer.encode.TypeRegistry;
import io.vrsky.core.model.TableId;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * What a snapshot needs from the source's catalog: the tables the publication publishes, and a
 * table's columns (as pgoutput describes them: attribute order, no dropped or generated columns)
 * with its key. Used by the replication thread only (the type registry is not thread-safe).
 */
final class SnapshotCatalog {

    private static final String COLUMNS = """
            SELECT c.oid, c.relreplident, a.attname, a.atttypid, a.attnum, a.atttypmod,
                   pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid)
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
            LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            ORDER BY a.attnum""";

    /** The primary key, or else the replica-identity index, in index order, with each column's type for casts. */
    private static final String KEY = """
            SELECT a.attname, format('%I.%I', tn.nspname, t.typname)
            FROM pg_catalog.pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
            JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            JOIN pg_catalog.pg_type t ON t.oid = a.atttypid JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
            WHERE i.indexrelid = (SELECT x.indexrelid FROM pg_catalog.pg_index x WHERE x.indrelid = CAST(? AS oid)
                                  AND (x.indisprimary OR (x.indisreplident AND ? = 'i'))
                                  ORDER BY x.indisprimary DESC LIMIT 1)
            ORDER BY k.n""";

    /** What pg_attribute and pg_attrdef say of one column beyond its name and type. */
    private record CatalogColumn(int attnum, int typmod, String sqlType, boolean notNull, String defaultExpression) {
    }

    private final DataSource dataSource;
    private final TypeRegistry types;

    SnapshotCatalog(DataSource dataSource, TypeRegistry types) {
        this.dataSource = dataSource;
        this.types = types;
    }

    /** The tables publication {@code publication} publishes now (FOR ALL TABLES included). */
    List<TableId> published(String publication) throws SQLException {
        List<TableId> tables = new ArrayList<>();
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT schemaname, tablename FROM pg_catalog.pg_publication_tables WHERE pubname = ? ORDER BY 1, 2")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    tables.add(new TableId(rs.getString(1), rs.getString(2)));
                }
            }
        }
        return tables;
    }

    /** The table as a snapshot reads it, or empty when it does not exist (any more). */
    Optional<SnapshotTable> table(TableId id) throws Exception {
        long oid = 0;
        String replident = "d";
        List<String> names = new ArrayList<>();
        List<Integer> typeOids = new ArrayList<>();
        List<CatalogColumn> described = new ArrayList<>();
        List<String> key = new ArrayList<>();
        List<String> keyTypes = new ArrayList<>();
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement(COLUMNS)) {
                ps.setString(1, id.schema());
                ps.setString(2, id.table());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        oid = rs.getLong(1);
                        replident = rs.getString(2);
                        names.add(rs.getString(3));
                        typeOids.add((int) rs.getLong(4));
                        described.add(new CatalogColumn(rs.getInt(5), rs.getInt(6), rs.getString(7), rs.getBoolean(8), rs.getString(9)));
                    }
                }
            }
            if (names.isEmpty()) {
                return Optional.empty();
            }
            try (PreparedStatement ps = c.prepareStatement(KEY)) {
                ps.setString(1, Long.toString(oid));
                ps.setString(2, replident);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        key.add(rs.getString(1));
                        keyTypes.add(rs.getString(2));
                    }
                }
            }
        }
        types.preload(typeOids);
        List<RelationInfo.Column> columns = new ArrayList<>();
        int[] keyIndex = new int[key.size()];
        for (int i = 0; i < names.size(); i++) {
            CatalogColumn d = described.get(i);
            // the same description a streamed change carries, so a sink learns attnums and types from READ rows too
            columns.add(new RelationInfo.Column(names.get(i), types.resolve(typeOids.get(i)), key.contains(names.get(i)), d.attnum(),
                    d.typmod(), d.sqlType(), d.notNull(), d.defaultExpression(), null));
            int k = key.indexOf(names.get(i));
            if (k >= 0) {
                keyIndex[k] = i;
            }
        }
        RelationInfo relation = new RelationInfo((int) oid, id, replident.charAt(0), columns);
        return Optional.of(new SnapshotTable(id, relation, key, keyTypes, keyIndex));
    }
}
