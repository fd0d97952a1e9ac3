package io.vrsky.producer.plan;

import io.vrsky.core.model.Operation;
import io.vrsky.producer.catalog.TableMeta;
import io.vrsky.producer.sql.StatementShape;

import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * One change, checked against the live catalog and converted to bind values, ready to join a
 * set-based statement.
 *
 * @param op          the change's own operation (for metrics)
 * @param shape       the statement it needs (after the conflict strategy is applied)
 * @param values      text values aligned with {@code shape.columns()} (null = SQL NULL)
 * @param keyValues   text values aligned with {@code shape.key()}: how to find the row
 * @param touchedKeys primary-key values this change reads or writes (before and after key); a
 *                    statement may hold a key only once, so that it equals one-by-one application
 * @param whole       the after-image has every written column and the whole primary key, so it may
 *                    be inserted when an update finds no row
 */
public record RowChange(Operation op, TableMeta table, StatementShape shape, MissingRowPolicy onMissing, List<String> values,
                 List<String> keyValues, List<List<String>> touchedKeys, boolean whole) {

    public RowChange {
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(shape, "shape");
        values = Collections.unmodifiableList(values);
        keyValues = Collections.unmodifiableList(keyValues);
        touchedKeys = List.copyOf(touchedKeys);
        if (values.size() != shape.columns().size() || keyValues.size() != shape.key().size()) {
            throw new IllegalArgumentException("values do not match the statement shape " + shape.kind());
        }
    }
}
