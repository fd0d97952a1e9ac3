package io.vrsky.core.model;

import java.time.Instant;
import java.util.Objects;

/**
 * Describes the last source transaction in an envelope and, for a transaction split into chunks,
 * which chunk this is. For envelopes from other components all fields but the counts may be null.
 * A dead letter's envelope also says why its transaction was not applied ({@code error}); a
 * message of snapshot rows says which snapshot, table and chunk it holds ({@code snapshot}).
 */
public record EnvelopeMetadata(
        Long txId,
        Lsn commitLsn,
        Instant commitTime,
        int chunk,
        boolean lastChunk,
        int changeCount,
        int transactionCount,
        Snapshot snapshot,
        ErrorReport error) {

    /**
     * The part of a snapshot a message holds: rows of one table, chunk {@code chunk} of snapshot
     * {@code id} (chunk numbers of one snapshot and table only grow; gaps are allowed).
     *
     * @param table {@code schema.table}
     */
    public record Snapshot(String id, String table, int chunk, boolean lastChunk) {
        public Snapshot {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(table, "table");
            if (chunk < 0) {
                throw new IllegalArgumentException("snapshot chunk must be >= 0, was " + chunk);
            }
        }
    }

    public EnvelopeMetadata {
        if (chunk < 0) {
            throw new IllegalArgumentException("chunk must be >= 0, was " + chunk);
        }
    }

    /** Metadata with an error report and no snapshot part (a dead letter). */
    public EnvelopeMetadata(Long txId, Lsn commitLsn, Instant commitTime, int chunk, boolean lastChunk, int changeCount,
                            int transactionCount, ErrorReport error) {
        this(txId, commitLsn, commitTime, chunk, lastChunk, changeCount, transactionCount, null, error);
    }

    /** Metadata without an error report or snapshot part (every CDC message). */
    public EnvelopeMetadata(Long txId, Lsn commitLsn, Instant commitTime, int chunk, boolean lastChunk, int changeCount,
                            int transactionCount) {
        this(txId, commitLsn, commitTime, chunk, lastChunk, changeCount, transactionCount, null, null);
    }
}
