package io.vrsky.producer.catalog;

import java.util.Objects;

/**
 * A live column of a sink table.
 *
 * @param castType    {@code format_type(atttypid, NULL)}: the type to cast a text parameter to,
 *                    quoted by the server where needed, without a type modifier (so that length
 *                    and precision are checked by assignment, as a plain INSERT would)
 * @param kind        how JSON values are converted for this column (domains use their base type)
 * @param elementKind for arrays, how elements are converted; otherwise {@code null}
 * @param baseType    the (base) type's name, e.g. {@code int8}, {@code _int4}, {@code jsonb}
 */
public record ColumnMeta(String name, int position, String castType, String baseType, ValueKind kind,
                         ValueKind elementKind, boolean generated) {
    public ColumnMeta {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(castType, "castType");
        Objects.requireNonNull(kind, "kind");
        if (kind == ValueKind.ARRAY && elementKind == null) {
            throw new IllegalArgumentException("array column " + name + " needs an element kind");
        }
    }

    /** A convenience for tests: a scalar column. */
    public static ColumnMeta scalar(String name, int position, String castType) {
        return new ColumnMeta(name, position, castType, castType, ValueKind.SCALAR, null, false);
    }
}
