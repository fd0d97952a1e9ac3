package io.vrsky.producer.catalog;

import io.vrsky.core.config.TableList;
import io.vrsky.core.model.TableId;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The tables the producer may write, from {@code POSTGRES_OUTPUT_TABLES}: a comma list of
 * {@code schema.table} or {@code table} (meaning {@code public.table}), the same rules as every
 * table list ({@link TableList}). Names match the catalog exactly (PostgreSQL folds unquoted names to
 * lower case, so write them in lower case).
 */
public final class TableWhitelist {

    /** The variable the list comes from. */
    public static final String VARIABLE = "POSTGRES_OUTPUT_TABLES";

    private final Set<TableId> tables;

    private TableWhitelist(Set<TableId> tables) {
        this.tables = Collections.unmodifiableSet(new LinkedHashSet<>(tables));
    }

    public static TableWhitelist of(TableId... tables) {
        return new TableWhitelist(new LinkedHashSet<>(List.of(tables)));
    }

    /**
     * Parses the items of {@code POSTGRES_OUTPUT_TABLES} by the rules every service shares
     * ({@link TableList}); every item that is not a valid name is reported to {@code problems} (one
     * line each, naming the variable) and left out.
     */
    public static TableWhitelist parse(List<String> items, List<String> problems) {
        return new TableWhitelist(new LinkedHashSet<>(TableList.parse(VARIABLE, items, problems)));
    }

    public boolean allows(TableId table) {
        return tables.contains(table);
    }

    public Set<TableId> tables() {
        return tables;
    }

    public boolean isEmpty() {
        return tables.isEmpty();
    }

    @Override
    public String toString() {
        List<String> names = new ArrayList<>();
        tables.forEach(t -> names.add(t.toString()));
        return String.join(",", names);
    }
}
