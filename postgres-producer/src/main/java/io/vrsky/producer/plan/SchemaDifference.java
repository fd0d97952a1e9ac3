package io.vrsky.producer.plan;

import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.TableId;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How a change's table, as the source describes it (the change's column list), differs from the
 * sink table: the table is missing, columns are missing (with the source's types, when known), or
 * columns have another type. A {@link SchemaPolicy} decides what to do about it.
 *
 * @param missingColumns  columns the sink table lacks; {@code type} is null for a name that is in
 *                        an image but not in the column list
 * @param typeDifferences columns whose type differs between the source and the sink
 */
public record SchemaDifference(TableId table, boolean tableMissing, List<ColumnInfo> missingColumns,
                               List<TypeDifference> typeDifferences) {

    /** A column of another type in the sink ({@code sinkType}) than at the source ({@code sourceType}), both pg_type names. */
    public record TypeDifference(String column, String sinkType, String sourceType) {
    }

    public SchemaDifference {
        Objects.requireNonNull(table, "table");
        missingColumns = List.copyOf(missingColumns);
        typeDifferences = List.copyOf(typeDifferences);
    }

    public static SchemaDifference missingTable(TableId table, List<ColumnInfo> columns) {
        return new SchemaDifference(table, true, columns, List.of());
    }

    public boolean isEmpty() {
        return !tableMissing && missingColumns.isEmpty() && typeDifferences.isEmpty();
    }

    /** One line naming the table and every column concerned (names and types only, never values). */
    public String describe() {
        if (tableMissing) {
            return "table " + table + " does not exist in the sink database";
        }
        List<String> parts = new ArrayList<>();
        if (!missingColumns.isEmpty()) {
            List<String> names = new ArrayList<>();
            for (ColumnInfo c : missingColumns) {
                names.add("\"" + c.name() + "\"" + (c.type() == null ? "" : " (" + c.type() + ")"));
            }
            parts.add("has no column " + String.join(", ", names));
        }
        for (TypeDifference d : typeDifferences) {
            parts.add("has column \"" + d.column() + "\" of type " + d.sinkType() + " where the source has " + d.sourceType());
        }
        return "table " + table + " in the sink database " + String.join("; ", parts);
    }
}
