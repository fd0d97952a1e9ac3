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
 * @param typeName    the column type's own {@code pg_type.typname} (a domain's or enum's own name,
 *                    {@code _int4} for {@code int4[]})
 * @param typmod      {@code atttypmod}: the type modifier, -1 for none
 * @param sqlType     the full type text, {@code format_type(atttypid, atttypmod)}
 * @param notNull     the column is NOT NULL
 * @param hasDefault  the column has a default expression
 * @param identity    the column is an identity column
 */
public record ColumnMeta(String name, int position, String castType, String baseType, ColumnKind kind,
                         ColumnKind elementKind, boolean generated, String typeName, int typmod, String sqlType, boolean notNull,
                         boolean hasDefault, boolean identity) {
    public ColumnMeta {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(castType, "castType");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(typeName, "typeName");
        Objects.requireNonNull(sqlType, "sqlType");
        if (kind == ColumnKind.ARRAY && elementKind == null) {
            throw new IllegalArgumentException("array column " + name + " needs an element kind");
        }
    }

    /** A nullable column without default and type modifier, its type named by {@code castType}. */
    public ColumnMeta(String name, int position, String castType, String baseType, ColumnKind kind, ColumnKind elementKind,
                      boolean generated) {
        this(name, position, castType, baseType, kind, elementKind, generated, typeNameOf(castType), -1, typeNameOf(castType), false,
                false, false);
    }

    /** A convenience for tests: a scalar column. */
    public static ColumnMeta scalar(String name, int position, String castType) {
        return new ColumnMeta(name, position, castType, castType, ColumnKind.SCALAR, null, false);
    }

    /** The type's own name from a possibly quoted, schema-qualified cast type ({@code pg_catalog."numeric"} → {@code numeric}). */
    static String typeNameOf(String castType) {
        int dot = castType.lastIndexOf('.');
        String name = castType.substring(dot + 1);
        if (name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"")) {
            name = name.substring(1, name.length() - 1).replace("\"\"", "\"");
        }
        return name;
    }
}
