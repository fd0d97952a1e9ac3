package io.vrsky.producer.catalog;

import java.util.Objects;

/**
 * A live column of a sink table.
 *
 * @param castType    the column type's schema-qualified name, quoted by the server
 *                    ({@code pg_catalog.int8}, {@code pg_catalog."numeric"}, {@code public.mood}):
 *                    what a text parameter is cast to. It carries no type modifier, so length and
 *                    precision are checked by assignment, as a plain INSERT would ({@code format_type}
 *                    would turn {@code char(3)} into {@code character}, which means {@code char(1)})
 * @param kind        how JSON values are converted for this column (domains use their base type)
 * @param elementKind for arrays, how elements are converted; otherwise {@code null}
 * @param baseType    the (base) type's name, e.g. {@code int8}, {@code _int4}, {@code jsonb}
 */
public record ColumnMeta(String name, int position, String castType, String baseType, ColumnKind kind,
                         ColumnKind elementKind, boolean generated) {
    public ColumnMeta {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(castType, "castType");
        Objects.requireNonNull(kind, "kind");
        if (kind == ColumnKind.ARRAY && elementKind == null) {
            throw new IllegalArgumentException("array column " + name + " needs an element kind");
        }
    }

    /** A convenience for tests: a scalar column. */
    public static ColumnMeta scalar(String name, int position, String castType) {
        return new ColumnMeta(name, position, castType, castType, ColumnKind.SCALAR, null, false);
    }
}
