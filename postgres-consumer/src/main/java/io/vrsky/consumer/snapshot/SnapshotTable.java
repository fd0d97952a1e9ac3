package io.vrsky.consumer.snapshot;

import io.vrsky.consumer.encode.RelationInfo;
import io.vrsky.core.model.TableId;

import java.util.List;
import java.util.Objects;

/**
 * A table as a snapshot reads it: its columns as the change encoder needs them (the same
 * {@link RelationInfo} shape pgoutput's Relation message gives), and the key that orders and
 * identifies its rows.
 *
 * @param key       the primary key (or the replica-identity index) in index order; empty for a
 *                  table without one (copied whole, in heap order)
 * @param keyTypes  for each key column, its type as {@code schema.typname}, quoted: the cast of a
 *                  literal in a keyset condition
 * @param keyIndex  for each key column, its position in {@code relation.columns()}
 */
record SnapshotTable(TableId id, RelationInfo relation, List<String> key, List<String> keyTypes, int[] keyIndex) {

    SnapshotTable {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(relation, "relation");
        key = List.copyOf(key);
        keyTypes = List.copyOf(keyTypes);
        keyIndex = keyIndex.clone();
        if (key.size() != keyTypes.size() || key.size() != keyIndex.length) {
            throw new IllegalArgumentException("key, keyTypes and keyIndex differ in size");
        }
    }

    boolean keyless() {
        return key.isEmpty();
    }

    /** The column names in order. */
    List<String> columns() {
        return relation.columns().stream().map(RelationInfo.Column::name).toList();
    }
}
