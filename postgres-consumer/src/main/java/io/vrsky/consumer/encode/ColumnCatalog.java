package io.vrsky.consumer.encode;

import io.vrsky.consumer.pgoutput.PgOutputMessage.RelationColumn;

import java.util.List;

/**
 * Where {@link RelationCache} looks up what a pgoutput Relation message does not carry: one query
 * per Relation message ({@code pg_attribute} joined with {@code pg_attrdef}, {@code format_type},
 * {@code attmissingval}, the primary key), in production on the consumer's small pool.
 *
 * <p>The catalog is read when the message is handled, which can be later than the DDL that caused
 * it: a later DDL (a rename, a drop) or a table rewrite that already happened shows instead.
 */
@FunctionalInterface
public interface ColumnCatalog {

    /**
     * What the catalog says about one column the Relation message named.
     *
     * @param sqlType           {@code format_type} of the message's type OID and modifier (null when unknown)
     * @param attnum            the attribute number of the live column of that name; null when the
     *                          table has none now (dropped or renamed since)
     * @param notNull           the live column is NOT NULL
     * @param defaultExpression the text of its default expression ({@code pg_get_expr}), or null
     * @param missingValue      {@code attmissingval} as text (a one-element array literal), or null
     * @param primaryKey        the column is part of the table's primary key
     */
    record ColumnRow(String sqlType, Integer attnum, boolean notNull, String defaultExpression, String missingValue,
                     boolean primaryKey) {

        /** Nothing known beyond the primary-key flag. */
        public static ColumnRow unknown(boolean primaryKey) {
            return new ColumnRow(null, null, false, null, null, primaryKey);
        }
    }

    /**
     * One row per column of the relation, in the message's order.
     *
     * @throws Exception when the catalog cannot be read (the caller retries the session)
     */
    List<ColumnRow> describe(int relationId, List<RelationColumn> columns) throws Exception;
}
