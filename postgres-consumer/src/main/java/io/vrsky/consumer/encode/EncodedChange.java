package io.vrsky.consumer.encode;

import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;

import java.util.Objects;

/**
 * One change, already encoded as the JSON object of {@code payload.changes[]}.
 *
 * @param tableEntry for a change of the compact layout that names its table by {@code ref}, the
 *                   table's entry ({@link RelationInfo#tableEntry()}, shared, not copied); else null
 */
public record EncodedChange(TableId table, Operation op, byte[] json, byte[] tableEntry) {
    public EncodedChange {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(json, "json");
    }

    /** A change of the standard layout (or one that names its table itself). */
    public EncodedChange(TableId table, Operation op, byte[] json) {
        this(table, op, json, null);
    }

    /**
     * The most the change adds to a message: its bytes, and for the compact layout its table's and
     * its transaction's entries (each message carries them once).
     */
    public long size() {
        return tableEntry == null ? json.length : (long) json.length + tableEntry.length + 1 + ChangeEncoder.TRANSACTION_ENTRY_BYTES;
    }
}
