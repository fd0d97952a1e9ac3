package io.vrsky.producer.catalog;

import io.vrsky.core.model.TableId;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** A sink table as the live catalog describes it: columns in attnum order and the primary key. */
public record TableMeta(TableId id, List<ColumnMeta> columns, List<String> primaryKey) {

    public TableMeta {
        Objects.requireNonNull(id, "id");
        columns = List.copyOf(columns);
        primaryKey = List.copyOf(primaryKey);
    }

    public Map<String, ColumnMeta> byName() {
        Map<String, ColumnMeta> map = new LinkedHashMap<>();
        columns.forEach(c -> map.put(c.name(), c));
        return Collections.unmodifiableMap(map);
    }

    public ColumnMeta column(String name) {
        for (ColumnMeta c : columns) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        return null;
    }

    public boolean hasPrimaryKey() {
        return !primaryKey.isEmpty();
    }

    public List<ColumnMeta> primaryKeyColumns() {
        List<ColumnMeta> result = new ArrayList<>(primaryKey.size());
        primaryKey.forEach(name -> result.add(column(name)));
        return result;
    }
}
