package io.vrsky.producer.sql;

import io.vrsky.core.model.TableId;

/**
 * Quotes SQL identifiers. Every table and column name that reaches SQL text goes through here,
 * after it has been checked against the whitelist and the live catalog.
 */
public final class Identifiers {

    private Identifiers() {
    }

    /**
     * {@code "name"} with embedded double quotes doubled.
     *
     * @throws IllegalArgumentException for an empty name or one holding a NUL character, which
     *                                  PostgreSQL cannot store
     */
    public static String quote(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("empty identifier");
        }
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("identifier contains a NUL character");
        }
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    /** {@code "schema"."table"}. */
    public static String qualified(TableId table) {
        return quote(table.schema()) + "." + quote(table.table());
    }
}
