package io.vrsky.core.model;

/** The kind of a row change, as carried in a change's {@code op} field. */
public enum Operation {
    INSERT, UPDATE, DELETE, TRUNCATE
}
