package io.vrsky.consumer.encode;

import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;

import java.util.Objects;

/** One change, already encoded as the JSON object of {@code payload.changes[]}. */
public record EncodedChange(TableId table, Operation op, byte[] json) {
    public EncodedChange {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(json, "json");
    }

    public int size() {
        return json.length;
    }
}
