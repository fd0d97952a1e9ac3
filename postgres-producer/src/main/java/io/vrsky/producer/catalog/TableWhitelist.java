package io.vrsky.producer.catalog;

import io.vrsky.core.model.TableId;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The tables the producer may write, from {@code POSTGRES_OUTPUT_TABLES}: a comma list of
 * {@code schema.table} or {@code table} (meaning {@code public.table}). Names match the catalog
 * exactly (PostgreSQL folds unquoted names to lower case, so write them in lower case).
 */
public final class TableWhitelist {

    private final Set<TableId> tables;

    private TableWhitelist(Set<TableId> tables) {
        this.tables = Collections.unmodifiableSet(new LinkedHashSet<>(tables));
    }

    public static TableWhitelist of(TableId... tables) {
        return new TableWhitelist(new LinkedHashSet<>(List.of(tables)));
    }

    /**
     * Parses the items of the list; every item that is not a valid name is reported to
     * {@code problems} (one line each) and left out.
     */
    public static TableWhitelist parse(List<String> items, List<String> problems) {
        Set<TableId> tables = new LinkedHashSet<>();
        for (String item : items) {
            String error = check(item);
            if (error != null) {
                problems.add(error);
            } else {
                tables.add(TableId.parse(item));
            }
        }
        return new TableWhitelist(tables);
    }

    private static String check(String item) {
        String[] parts = item.split("\\.", -1);
        if (parts.length > 2) {
            return "'" + item + "' has more than one dot: allowed schema.table or table";
        }
        for (String part : parts) {
            if (part.isEmpty()) {
                return "'" + item + "' has an empty name part: allowed schema.table or table";
            }
            for (int i = 0; i < part.length(); i++) {
                char c = part.charAt(i);
                if (Character.isWhitespace(c) || c == '"' || c == '\0' || Character.isISOControl(c)) {
                    return "'" + item + "' contains whitespace, a quote or a control character: allowed schema.table or table";
                }
            }
        }
        return null;
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
