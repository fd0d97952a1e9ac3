package io.vrsky.producer.plan;

import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.TableId;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How a change's table, as the source describes it (the change's column list), differs from the
 * sink table in a way the {@link SchemaPolicy} does not resolve by itself: the table is missing,
 * columns are missing (with the source's types, when known), columns have another type, or other
 * problems (each naming its column, and saying what to do). This is what a pause reports.
 *
 * @param missingColumns  columns the sink table lacks; {@code type} is null for a name that is in
 *                        an image but not in the column list
 * @param typeDifferences columns whose type differs between the source and the sink
 * @param problems        anything else, one sentence each, naming the column (never a row value)
 */
public record SchemaDifference(TableId table, boolean tableMissing, List<ColumnInfo> missingColumns,
                               List<TypeDifference> typeDifferences, List<String> problems) {

    /**
     * A column of another type in the sink ({@code sinkType}) than at the source ({@code sourceType}),
     * and why that is not applied by itself ({@code reason}, null when it is not said).
     */
    public record TypeDifference(String column, String sinkType, String sourceType, String reason) {
        public TypeDifference(String column, String sinkType, String sourceType) {
            this(column, sinkType, sourceType, null);
        }
    }

    public SchemaDifference {
        Objects.requireNonNull(table, "table");
        missingColumns = List.copyOf(missingColumns);
        typeDifferences = List.copyOf(typeDifferences);
        problems = List.copyOf(problems);
    }

    public SchemaDifference(TableId table, boolean tableMissing, List<ColumnInfo> missingColumns, List<TypeDifference> typeDifferences) {
        this(table, tableMissing, missingColumns, typeDifferences, List.of());
    }

    public static SchemaDifference missingTable(TableId table, List<ColumnInfo> columns) {
        return new SchemaDifference(table, true, columns, List.of());
    }

    /** Problems of the table that are not a plain missing column or type difference. */
    public static SchemaDifference problems(TableId table, List<String> problems) {
        return new SchemaDifference(table, false, List.of(), List.of(), problems);
    }

    public boolean isEmpty() {
        return !tableMissing && missingColumns.isEmpty() && typeDifferences.isEmpty() && problems.isEmpty();
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
                String type = c.sqlType() != null ? c.sqlType() : c.type();
                names.add("\"" + c.name() + "\"" + (type == null ? "" : " (" + type + ")"));
            }
            parts.add("has no column " + String.join(", ", names));
        }
        for (TypeDifference d : typeDifferences) {
            parts.add("has column \"" + d.column() + "\" of type " + d.sinkType() + " where the source has " + d.sourceType()
                    + (d.reason() == null ? "" : ": " + d.reason()));
        }
        parts.addAll(problems);
        return "table " + table + " in the sink database " + String.join("; ", parts);
    }
}
