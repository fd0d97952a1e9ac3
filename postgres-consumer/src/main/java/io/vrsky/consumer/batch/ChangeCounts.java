package io.vrsky.consumer.batch;

import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Changes per (table, operation) of a message or transaction, for the metrics. Consecutive changes
 * of one table and operation (the rule) are counted without a map lookup or an allocation.
 *
 * <p>Not thread-safe.
 */
final class ChangeCounts {

    private TableOp[] keys = new TableOp[4];
    private int[] counts = new int[4];
    private int size;
    private final Map<TableOp, Integer> index = new HashMap<>();
    private TableId lastTable;
    private Operation lastOp;
    private int last = -1;

    void add(TableId table, Operation op, int n) {
        if (table == lastTable && op == lastOp) {
            counts[last] += n;
            return;
        }
        TableOp key = new TableOp(table, op);
        Integer i = index.get(key);
        if (i == null) {
            if (size == keys.length) {
                keys = Arrays.copyOf(keys, size * 2);
                counts = Arrays.copyOf(counts, size * 2);
            }
            i = size++;
            keys[i] = key;
            counts[i] = 0;
            index.put(key, i);
        }
        counts[i] += n;
        lastTable = table;
        lastOp = op;
        last = i;
    }

    void addAll(ChangeCounts other) {
        for (int i = 0; i < other.size; i++) {
            if (other.counts[i] > 0) {
                add(other.keys[i].table(), other.keys[i].op(), other.counts[i]);
            }
        }
    }

    Map<TableOp, Integer> toMap() {
        Map<TableOp, Integer> map = new LinkedHashMap<>();
        for (int i = 0; i < size; i++) {
            if (counts[i] > 0) {
                map.put(keys[i], counts[i]);
            }
        }
        return map;
    }

    /** Sets every count to zero; the keys seen stay known (the next transaction likely changes the same table). */
    void clear() {
        if (size > 64) {
            Arrays.fill(keys, 0, size, null);
            size = 0;
            index.clear();
            lastTable = null;
            lastOp = null;
            last = -1;
        } else {
            Arrays.fill(counts, 0, size, 0);
        }
    }
}
