package io.vrsky.producer.catalog;

/** How a JSON value is turned into the text a column's input function reads. */
public enum ColumnKind {
    /** Numbers, strings and booleans as their text (int, numeric, float, text, uuid, timestamps, enums, ...). */
    SCALAR,
    /** Base64 on the wire, sent as {@code \x} hex. */
    BYTEA,
    /** Any JSON value, sent as JSON text. */
    JSON,
    /** A JSON array, sent as a PostgreSQL array literal. */
    ARRAY
}
