package io.vrsky.core.model;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Objects;

/**
 * A column of a changed row, as the source describes it.
 *
 * <p>Always: its name, PostgreSQL type name ({@code int4}, {@code timestamptz}, {@code int4[]} for
 * arrays, a domain's or enum's own name; no length or precision) and whether it is part of the key
 * (replica identity). Optional (null, or false for {@code notNull}, when the publisher does not
 * know them; other publishers may leave them out, readers ignore fields they do not know):
 *
 * @param attnum            the source column's attribute number, which stays the same when the
 *                          column is renamed
 * @param typmod            PostgreSQL's type modifier ({@code atttypmod}, e.g. 54 for
 *                          {@code varchar(50)}); null when there is none (-1)
 * @param sqlType           the full type text as PostgreSQL's {@code format_type} prints it
 *                          ({@code character varying(50)}, {@code numeric(12,2)},
 *                          {@code public.mood[]})
 * @param notNull           the column is {@code NOT NULL}
 * @param defaultExpression the default expression's text ({@code "default"} on the wire);
 *                          informational, never executed
 * @param existingRowsValue the value, in the wire representation of a row value, that rows which
 *                          existed before an {@code ADD COLUMN ... DEFAULT ...} hold (PostgreSQL's
 *                          {@code attmissingval}); null when there is none
 */
public record ColumnInfo(String name, String type, boolean key, Integer attnum, Integer typmod, String sqlType,
                         boolean notNull, String defaultExpression, JsonNode existingRowsValue) {

    public ColumnInfo {
        Objects.requireNonNull(name, "name");
        if (typmod != null && typmod == -1) {
            typmod = null;
        }
        if (existingRowsValue != null && existingRowsValue.isNull()) {
            existingRowsValue = null;
        }
    }

    /** A column described by name, type and key flag only. */
    public ColumnInfo(String name, String type, boolean key) {
        this(name, type, key, null, null, null, false, null, null);
    }

    /** Whether any of the optional fields is set. */
    public boolean hasDetails() {
        return attnum != null || typmod != null || sqlType != null || notNull || defaultExpression != null
                || existingRowsValue != null;
    }
}
