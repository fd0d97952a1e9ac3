package io.vrsky.consumer.pgoutput;

import io.vrsky.core.model.TableId;

import java.util.List;
import java.util.Objects;

/**
 * A relation as the change encoder needs it: table name, columns with resolved types and key
 * flags, and the {@code columns} JSON array already encoded (it is the same for every change).
 */
public record RelationInfo(int relationId, TableId table, char replicaIdentity, List<Column> columns, byte[] columnsJson) {

    public RelationInfo {
        Objects.requireNonNull(table, "table");
        columns = List.copyOf(columns);
        Objects.requireNonNull(columnsJson, "columnsJson");
    }

    /** A column: name, type and whether it identifies the row (primary key or replica identity). */
    public record Column(String name, PgType type, boolean key) {
        public Column {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
        }
    }

    public boolean hasKey() {
        for (Column c : columns) {
            if (c.key()) {
                return true;
            }
        }
        return false;
    }
}
