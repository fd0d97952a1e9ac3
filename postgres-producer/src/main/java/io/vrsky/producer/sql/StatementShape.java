package io.vrsky.producer.sql;

import io.vrsky.core.model.TableId;
import io.vrsky.producer.catalog.ColumnMeta;

import java.util.List;
import java.util.Objects;

/**
 * What a statement looks like, without its values: the cache key for SQL text (and, through
 * PgJDBC's per-connection statement cache, for server-side prepared statements).
 *
 * @param columns the columns written (INSERT, UPDATE) in catalog order
 * @param key     the columns that find the row: the primary key, or the before-image columns of
 *                a table without one; for UPSERT the conflict target
 */
public record StatementShape(Kind kind, TableId table, List<ColumnMeta> columns, List<ColumnMeta> key) {

    /** The statement forms the producer uses. */
    public enum Kind {
        /** {@code INSERT ... SELECT FROM unnest(...)}: many rows, no conflict handling. */
        INSERT,
        /** {@code INSERT ... SELECT FROM unnest(...) ON CONFLICT (key) DO UPDATE}. */
        UPSERT,
        /** {@code UPDATE ... FROM unnest(...) WHERE key = ... RETURNING ordinality}. */
        UPDATE_BY_KEY,
        /** {@code DELETE ... USING unnest(...) WHERE key = ...}. */
        DELETE_BY_KEY,
        /** One row: {@code UPDATE ... WHERE (tableoid, ctid) = (first row IS NOT DISTINCT FROM the before-image)}. */
        UPDATE_BY_IDENTITY,
        /** One row: {@code DELETE ... WHERE (tableoid, ctid) = (first row IS NOT DISTINCT FROM the before-image)}. */
        DELETE_BY_IDENTITY,
        TRUNCATE
    }

    public StatementShape {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(table, "table");
        columns = List.copyOf(columns);
        key = List.copyOf(key);
    }
}
