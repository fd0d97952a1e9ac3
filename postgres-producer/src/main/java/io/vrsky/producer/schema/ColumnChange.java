package io.vrsky.producer.schema;

import io.vrsky.core.model.ColumnInfo;
import io.vrsky.producer.catalog.ColumnMeta;

/** One change to a sink table that makes it follow the source's. */
sealed interface ColumnChange {

    /** The sink column concerned (its new name for an added or renamed column). */
    String column();

    /** The label of {@code vrsky_producer_schema_changes_total{kind}}. */
    String kind();

    /** A column the source has and the sink lacks. */
    record Add(ColumnInfo source) implements ColumnChange {
        @Override
        public String column() {
            return source.name();
        }

        @Override
        public String kind() {
            return "add_column";
        }
    }

    /**
     * A sink column whose type the source widened; {@code column} is its name once the renames
     * before it are done, {@code sink} the column as the catalog describes it now.
     *
     * @param onlyIfEmpty the widening is right only while the sink column holds no value
     *                    ({@code timestamp → timestamptz})
     */
    record Widen(String column, ColumnMeta sink, ColumnInfo source, boolean onlyIfEmpty) implements ColumnChange {

        @Override
        public String kind() {
            return "widen_column";
        }
    }

    /** A sink column the source renamed (same attnum, another name). */
    record Rename(String from, ColumnInfo source) implements ColumnChange {
        @Override
        public String column() {
            return source.name();
        }

        @Override
        public String kind() {
            return "rename_column";
        }
    }

    /** A sink column the source dropped: kept, but NOT NULL no more, so that rows without it can be inserted. */
    record DropNotNull(String column) implements ColumnChange {
        @Override
        public String kind() {
            return "drop_not_null";
        }
    }
}
