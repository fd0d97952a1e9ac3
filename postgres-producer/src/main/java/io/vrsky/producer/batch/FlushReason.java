package io.vrsky.producer.batch;

/** Why a batch is written now. */
public enum FlushReason {
    /** Not yet. */
    NONE,
    /** {@code POSTGRES_OUTPUT_BATCH_SIZE} messages (or the row limit) reached. */
    FULL,
    /** {@code POSTGRES_OUTPUT_FLUSH_INTERVAL} passed since the batch's first message. */
    INTERVAL,
    /** Nothing more is waiting in the consumer: write at once, do not wait for the interval. */
    IDLE,
    /**
     * Nothing more is pulled yet, the consumer reports more, and the batch has waited the linger time:
     * messages are trickling in about as fast as they are written, so write what is there.
     */
    LINGER,
    /** A chunked transaction begins, or the service stops. */
    BOUNDARY
}
