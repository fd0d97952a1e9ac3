package io.vrsky.producer.write;

import io.vrsky.core.model.TableId;

import java.sql.SQLException;

/** Under the UPDATE strategy, an update found no row to change (SQLSTATE 02000, no_data). */
final class MissingRowException extends SQLException {
    private static final long serialVersionUID = 1L;

    MissingRowException(TableId table, int rows) {
        super(rows + " row(s) to update not found in " + table + " (POSTGRES_OUTPUT_CONFLICT_STRATEGY=UPDATE)", "02000");
    }
}
