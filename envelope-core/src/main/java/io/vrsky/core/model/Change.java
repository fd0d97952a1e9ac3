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
 * integers and floats, exact strings for numeric, base64 for bytea, arrays as arrays, json/jsonb
 * as a string holding the document's text, ...).
 *
 * <p>{@code txId}, {@code commitLsn}, {@code commitTime}, {@code lsn} and {@code columns} are set
 * by postgres-consumer; envelopes from other VRSky components may carry only {@code op},
 * {@code table}, {@code after} and {@code before} (or a key) for deletes.
 *
 * <p>A placeholder stands for a change the consumer could not carry: {@code oversized} (its JSON
 * exceeds what one NATS message holds) or {@code undecodable} (a value did not convert). It has
 * no images, only the row's key in {@code before}; its transaction must never be applied.
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
        List<String> unchangedToast,
        Oversized oversized,
        Undecodable undecodable) {

    /** The change's encoded size and the limit it exceeded, in bytes. */
    public record Oversized(long bytes, long limit) {
    }

    /** Why the consumer could not decode the row. */
    public record Undecodable(String error) {
        public Undecodable {
            Objects.requireNonNull(error, "error");
        }
    }

    public Change {
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(table, "table");
        columns = columns == null ? List.of() : List.copyOf(columns);
        before = frozen(before);
        after = frozen(after);
        unchangedToast = unchangedToast == null ? List.of() : List.copyOf(unchangedToast);
    }

    private static final Class<?> UNMODIFIABLE_VIEW = Collections.unmodifiableMap(new LinkedHashMap<>()).getClass();

    /**
     * An image in column order that cannot be changed through the record: copied, unless it is an
     * unmodifiable view already ({@link #image(Map)}: the decoders hand over rows nobody else holds).
     */
    private static Map<String, JsonNode> frozen(Map<String, JsonNode> row) {
        if (row == null || row.getClass() == UNMODIFIABLE_VIEW) {
            return row;
        }
        return Collections.unmodifiableMap(new LinkedHashMap<>(row));
    }

    /**
     * An image built by a decoder that gives up the map: the record keeps it behind an
     * unmodifiable view instead of copying it. The caller must not change {@code row} afterwards.
     */
    public static Map<String, JsonNode> image(LinkedHashMap<String, JsonNode> row) {
        return row == null ? null : Collections.unmodifiableMap(row);
    }

    /** A change that carries its row (no placeholder). */
    public Change(Operation op, String schema, String table, Long txId, Lsn commitLsn, Instant commitTime, Lsn lsn,
                  List<ColumnInfo> columns, Map<String, JsonNode> before, Map<String, JsonNode> after,
                  List<String> unchangedToast) {
        this(op, schema, table, txId, commitLsn, commitTime, lsn, columns, before, after, unchangedToast, null, null);
    }

    /** The table, with {@code public} when the change names no schema. */
    public TableId tableId() {
        return new TableId(schema == null || schema.isEmpty() ? "public" : schema, table);
    }

    /** Whether this is a placeholder for a change the consumer could not carry ({@code oversized} or {@code undecodable}). */
    public boolean isPlaceholder() {
        return oversized != null || undecodable != null;
    }
}
