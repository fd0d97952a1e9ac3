package io.vrsky.consumer.batch;

import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;

/** A (table, operation) pair, the key of the per-table metrics. */
public record TableOp(TableId table, Operation op) {
}
