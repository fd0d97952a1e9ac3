package io.vrsky.consumer.encode;

/** The JSON kind a PostgreSQL value becomes in the envelope (DESIGN.md, "Values"). */
public enum JsonKind {
    /** int2, int4, int8: a JSON number. */
    INTEGER,
    /** float4, float8: a JSON number; NaN and ±Infinity as strings. */
    FLOAT,
    /** numeric: a string holding the exact digits. */
    NUMERIC,
    /** bool: a JSON boolean. */
    BOOLEAN,
    /** json, jsonb: a string holding the document's text as PostgreSQL prints it (SQL NULL stays JSON null). */
    JSON,
    /** bytea: base64. */
    BYTEA,
    /** date: ISO-8601 {@code 2026-02-17}. */
    DATE,
    /** time: ISO-8601 {@code 10:00:00.123456}. */
    TIME,
    /** timestamp: ISO-8601 without zone, six fraction digits. */
    TIMESTAMP,
    /** timestamptz: ISO-8601 in UTC with {@code Z}, six fraction digits. */
    TIMESTAMPTZ,
    /** any array: a JSON array of its element kind. */
    ARRAY,
    /** everything else (text, uuid, interval, inet, enums, ...): the text form as a string. */
    STRING
}
