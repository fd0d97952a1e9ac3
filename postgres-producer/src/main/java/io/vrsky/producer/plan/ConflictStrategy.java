package io.vrsky.producer.plan;

/**
 * How INSERT changes meet existing rows and UPDATE changes meet missing ones
 * ({@code POSTGRES_OUTPUT_CONFLICT_STRATEGY}). Deletes of missing rows are never an error.
 */
public enum ConflictStrategy {
    /**
     * Default. An INSERT whose key exists overwrites the row ({@code ON CONFLICT (pk) DO UPDATE});
     * an UPDATE whose row is missing inserts the after-image when it is whole (no unchanged-TOAST
     * column), else leaves it missing and counts it.
     */
    UPSERT,
    /** An INSERT whose key exists is an error (unique violation, to the DLQ); an UPDATE of a missing row is counted and skipped. */
    INSERT,
    /** INSERTs update the existing row by key; a missing row (for an INSERT or an UPDATE) is an error (to the DLQ, SQLSTATE 02000). */
    UPDATE;

    public MissingRowPolicy missingRowPolicy() {
        return switch (this) {
            case UPSERT -> MissingRowPolicy.INSERT;
            case INSERT -> MissingRowPolicy.IGNORE;
            case UPDATE -> MissingRowPolicy.FAIL;
        };
    }
}
