package io.vrsky.producer.plan;

import io.vrsky.producer.sql.StatementShape;

import java.util.List;

/** Consecutive changes that one statement applies together, in order. */
public record Run(StatementShape shape, MissingRowPolicy onMissing, List<RowChange> rows) {
    public Run {
        rows = List.copyOf(rows);
    }
}
