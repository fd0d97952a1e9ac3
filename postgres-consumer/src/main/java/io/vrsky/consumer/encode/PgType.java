package io.vrsky.consumer.encode;

import java.util.Objects;

/**
 * A column type as the envelope needs it: the name written in {@code columns[].type}
 * ({@code pg_type.typname}, {@code int4[]} for arrays, a domain's or enum's own name), the JSON
 * kind of its values (a domain's base type decides), and for arrays the element type and the
 * delimiter of the array literal.
 */
public record PgType(int oid, String name, JsonKind kind, PgType element, char delimiter) {

    public PgType {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        if ((kind == JsonKind.ARRAY) != (element != null)) {
            throw new IllegalArgumentException("an element type is required exactly for arrays: " + name);
        }
    }

    public static PgType scalar(int oid, String name, JsonKind kind) {
        return new PgType(oid, name, kind, null, ',');
    }

    public static PgType arrayOf(int oid, PgType element, char delimiter) {
        return new PgType(oid, element.name() + "[]", JsonKind.ARRAY, element, delimiter);
    }
}
