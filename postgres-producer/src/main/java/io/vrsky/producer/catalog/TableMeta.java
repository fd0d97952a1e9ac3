package io.vrsky.producer.catalog;

import io.vrsky.core.model.TableId;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** A sink table as the live catalog describes it: columns in attnum order and the primary key. Immutable. */
public final class TableMeta {

    private final TableId id;
    private final List<ColumnMeta> columns;
    private final List<String> primaryKey;
    private final Map<String, ColumnMeta> byName;
    private final List<ColumnMeta> primaryKeyColumns;
    private final boolean copySafe;
    private final boolean onConflictAllowed;

    public TableMeta(TableId id, List<ColumnMeta> columns, List<String> primaryKey) {
        this(id, columns, primaryKey, true);
    }

    /**
     * @param copySafe rows may be inserted with COPY: the table has no rules, no row-level security
     *                 and no {@code GENERATED ALWAYS AS IDENTITY} column (COPY ignores rules, is refused
     *                 under RLS and writes identity values an INSERT would reject)
     */
    public TableMeta(TableId id, List<ColumnMeta> columns, List<String> primaryKey, boolean copySafe) {
        this(id, columns, primaryKey, copySafe, true);
    }

    /**
     * @param onConflictAllowed PostgreSQL accepts {@code INSERT ... ON CONFLICT} here: the table has
     *                          no INSERT or UPDATE rules
     */
    public TableMeta(TableId id, List<ColumnMeta> columns, List<String> primaryKey, boolean copySafe, boolean onConflictAllowed) {
        this.copySafe = copySafe;
        this.onConflictAllowed = onConflictAllowed;
        this.id = Objects.requireNonNull(id, "id");
        this.columns = List.copyOf(columns);
        this.primaryKey = List.copyOf(primaryKey);
        Map<String, ColumnMeta> names = new HashMap<>();
        this.columns.forEach(c -> names.put(c.name(), c));
        this.byName = Collections.unmodifiableMap(names);
        List<ColumnMeta> pk = new ArrayList<>(primaryKey.size());
        for (String name : this.primaryKey) {
            ColumnMeta column = names.get(name);
            if (column == null) {
                throw new IllegalArgumentException("primary key column " + name + " is not a column of " + id);
            }
            pk.add(column);
        }
        this.primaryKeyColumns = List.copyOf(pk);
    }

    public TableId id() {
        return id;
    }

    public List<ColumnMeta> columns() {
        return columns;
    }

    public List<String> primaryKey() {
        return primaryKey;
    }

    /** The column of that exact name, or null. */
    public ColumnMeta column(String name) {
        return byName.get(name);
    }

    public boolean hasPrimaryKey() {
        return !primaryKey.isEmpty();
    }

    public List<ColumnMeta> primaryKeyColumns() {
        return primaryKeyColumns;
    }

    /** Whether {@code INSERT ... ON CONFLICT} may be used (no INSERT or UPDATE rules). */
    public boolean onConflictAllowed() {
        return onConflictAllowed;
    }

    /** Whether inserts may go through COPY (see the constructor). */
    public boolean copySafe() {
        return copySafe;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TableMeta t && id.equals(t.id) && columns.equals(t.columns) && primaryKey.equals(t.primaryKey)
                && copySafe == t.copySafe && onConflictAllowed == t.onConflictAllowed;
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, columns, primaryKey);
    }

    @Override
    public String toString() {
        return "TableMeta[" + id + ", columns=" + columns.size() + ", primaryKey=" + primaryKey + "]";
    }
}
