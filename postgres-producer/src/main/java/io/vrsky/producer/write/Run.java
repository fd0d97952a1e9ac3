package io.vrsky.producer.write;

import io.vrsky.producer.sql.StatementShape;

import java.util.List;

/** Consecutive changes that one statement applies together, in order. */
record Run(StatementShape shape, MissingRowPolicy onMissing, List<RowChange> rows) {
    Run {
        rows = List.copyOf(rows);
    }
}
