package io.vrsky.core.model;

import java.util.Objects;

/** A schema-qualified table name. Plain value: no quoting, no validation of SQL safety. */
public record TableId(String schema, String table) {

    public TableId {
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(table, "table");
    }

    /** Parses {@code schema.table} or {@code table} (schema {@code public}). */
    public static TableId parse(String text) {
        int dot = text.indexOf('.');
        return dot < 0 ? new TableId("public", text) : new TableId(text.substring(0, dot), text.substring(dot + 1));
    }

    @Override
    public String toString() {
        return schema + "." + table;
    }
}
