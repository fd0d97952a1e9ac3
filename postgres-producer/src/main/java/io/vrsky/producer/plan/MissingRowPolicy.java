package io.vrsky.producer.plan;

/** What an update does when it finds no row. */
public enum MissingRowPolicy {
    /** Count it and move on. */
    IGNORE,
    /** Insert the after-image when it is whole, else count it. */
    INSERT,
    /** Fail the message (SQLSTATE 02000). */
    FAIL
}
