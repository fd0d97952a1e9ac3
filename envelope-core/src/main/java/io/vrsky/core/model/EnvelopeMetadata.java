package io.vrsky.core.model;

import java.time.Instant;

/**
 * Describes the last source transaction in an envelope and, for a transaction split into chunks,
 * which chunk this is. For envelopes from other components all fields but the counts may be null.
 */
public record EnvelopeMetadata(
        Long txId,
        Lsn commitLsn,
        Instant commitTime,
        int chunk,
        boolean lastChunk,
        int changeCount,
        int transactionCount) {

    public EnvelopeMetadata {
        if (chunk < 0) {
            throw new IllegalArgumentException("chunk must be >= 0, was " + chunk);
        }
    }
}
