package io.vrsky.core.model;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One row change. Values are JSON nodes in the wire representation of DESIGN.md (numbers for
 * integers and floats, exact strings for numeric, base64 for bytea, arrays as arrays, ...).
 *
 * <p>{@code txId}, {@code commitLsn}, {@code commitTime}, {@code lsn} and {@code columns} are set
 * by postgres-consumer; envelopes from other VRSky components may carry only {@code op},
 * {@code table}, {@code after} and {@code before} (or a key) for deletes.
 */
public record Change(
        Operation op,
        String schema,
        String table,
        Long txId,
        Lsn commitLsn,
        Instant commitTime,
        Lsn lsn,
        List<ColumnInfo> columns,
        Map<String, JsonNode> before,
        Map<String, JsonNode> after,
        List<String> unchangedToast) {

    public Change {
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(table, "table");
        columns = columns == null ? List.of() : List.copyOf(columns);
        before = before == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(before));
        after = after == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(after));
        unchangedToast = unchangedToast == null ? List.of() : List.copyOf(unchangedToast);
    }

    /** The table, with {@code public} when the change names no schema. */
    public TableId tableId() {
        return new TableId(schema == null || schema.isEmpty() ? "public" : schema, table);
    }
}
