package io.vrsky.producer.schema;

import java.util.Objects;

/**
 * A source column's type as the producer last saw it described: {@code pg_type.typname} and type
 * modifier (-1 for none). Kept beside the attnum → sink column mapping, so that a sink column wider
 * than the source's from the start is told apart from a source column that narrowed later.
 */
record SourceType(String typeName, int typmod) {

    SourceType {
        Objects.requireNonNull(typeName, "typeName");
    }
}
