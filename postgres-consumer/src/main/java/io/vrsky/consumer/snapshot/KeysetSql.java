package io.vrsky.consumer.snapshot;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The SQL a snapshot reads rows with: {@code COPY (SELECT ...) TO STDOUT} in text format, the
 * whole table ordered by its key, or one keyset chunk ({@code WHERE (key) > (last) ORDER BY key
 * LIMIT n}, composite keys compared as a row, each literal cast to its column's type so the
 * comparison is the key index's own). COPY takes no parameters, so the last key's values are
 * written as literals: each is text this consumer read from the same table, quoted with every
 * {@code '} doubled (the session runs with {@code standard_conforming_strings} on, so a backslash
 * is an ordinary character).
 */
final class KeysetSql {

    private KeysetSql() {
    }

    /** Every row of {@code t}: ordered by its key, or in heap order for a table without one. */
    static String wholeTable(SnapshotTable t) {
        return "COPY (SELECT " + selectList(t) + " FROM " + qualified(t) + (t.keyless() ? "" : " ORDER BY " + keyList(t))
                + ") TO STDOUT";
    }

    /** At most {@code limit} rows of {@code t} after {@code lastKey} (null: from the first) in key order. */
    static String chunk(SnapshotTable t, List<String> lastKey, int limit) {
        if (t.keyless()) {
            throw new IllegalArgumentException(t.id() + " has no key to read chunks by");
        }
        StringBuilder sql = new StringBuilder("COPY (SELECT ").append(selectList(t)).append(" FROM ").append(qualified(t));
        if (lastKey != null) {
            if (lastKey.size() != t.key().size()) {
                throw new IllegalArgumentException("the last key of " + t.id() + " has " + lastKey.size() + " values, the key "
                        + t.key().size() + " columns");
            }
            sql.append(" WHERE (").append(keyList(t)).append(") > (");
            for (int i = 0; i < lastKey.size(); i++) {
                if (i > 0) {
                    sql.append(", ");
                }
                if (lastKey.get(i) == null) {
                    throw new IllegalArgumentException("a key value of " + t.id() + " is null");
                }
                sql.append(literal(lastKey.get(i))).append("::").append(t.keyTypes().get(i));
            }
            sql.append(')');
        }
        return sql.append(" ORDER BY ").append(keyList(t)).append(" LIMIT ").append(limit).append(") TO STDOUT").toString();
    }

    static String literal(String value) {
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a key value holds a NUL character");
        }
        return "'" + value.replace("'", "''") + "'";
    }

    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    static String qualified(SnapshotTable t) {
        return quote(t.id().schema()) + "." + quote(t.id().table());
    }

    private static String selectList(SnapshotTable t) {
        return t.columns().stream().map(KeysetSql::quote).collect(Collectors.joining(", "));
    }

    private static String keyList(SnapshotTable t) {
        return t.key().stream().map(KeysetSql::quote).collect(Collectors.joining(", "));
    }
}
