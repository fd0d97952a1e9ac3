package io.vrsky.core.model;

/**
 * The kind of a row change, as carried in a change's {@code op} field. {@code READ} is a row
 * copied by a snapshot (the whole row in {@code after}, no {@code before}); the producer writes it
 * as an upsert whatever its conflict strategy.
 */
public enum Operation {
    INSERT, UPDATE, DELETE, TRUNCATE, READ
}
