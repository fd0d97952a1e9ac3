package io.vrsky.core.model;

import java.time.Instant;

/**
 * Describes the last source transaction in an envelope and, for a transaction split into chunks,
 * which chunk this is. For envelopes from other components all fields but the counts may be null.
 * A dead letter's envelope also says why its transaction was not applied ({@code error}).
 */
public record EnvelopeMetadata(
        Long txId,
        Lsn commitLsn,
        Instant commitTime,
        int chunk,
        boolean lastChunk,
        int changeCount,
        int transactionCount,
        ErrorReport error) {

    public EnvelopeMetadata {
        if (chunk < 0) {
            throw new IllegalArgumentException("chunk must be >= 0, was " + chunk);
        }
    }

    /** Metadata without an error report (every message but a dead letter). */
    public EnvelopeMetadata(Long txId, Lsn commitLsn, Instant commitTime, int chunk, boolean lastChunk, int changeCount,
                            int transactionCount) {
        this(txId, commitLsn, commitTime, chunk, lastChunk, changeCount, transactionCount, null);
    }
}
