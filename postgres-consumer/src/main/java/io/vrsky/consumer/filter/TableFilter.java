package io.vrsky.consumer.filter;

import io.vrsky.core.model.TableId;

import java.util.Collection;
import java.util.Set;

/**
 * Client-side table filter (POSTGRES_INPUT_TABLES). The publication already limits what the server
 * sends when the consumer created it; this also holds when a pre-existing publication covers more.
 * Names compare exactly as they are in the catalog. An empty list accepts every table.
 */
public final class TableFilter {

    private final Set<TableId> tables;

    public TableFilter(Collection<TableId> tables) {
        this.tables = Set.copyOf(tables);
    }

    public static TableFilter all() {
        return new TableFilter(Set.of());
    }

    public boolean accepts(TableId table) {
        return tables.isEmpty() || tables.contains(table);
    }

    @Override
    public String toString() {
        return tables.isEmpty() ? "all tables" : tables.toString();
    }
}
