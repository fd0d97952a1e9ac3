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
    /** A chunked transaction begins, or the service stops. */
    BOUNDARY
}
