package io.vrsky.core.model;

import java.util.Objects;

/**
 * A column of a changed row: its name, PostgreSQL type name ({@code int4}, {@code timestamptz},
 * {@code int4[]} for arrays, a domain's or enum's own name) and whether it is part of the key
 * (replica identity).
 */
public record ColumnInfo(String name, String type, boolean key) {
    public ColumnInfo {
        Objects.requireNonNull(name, "name");
    }
}
