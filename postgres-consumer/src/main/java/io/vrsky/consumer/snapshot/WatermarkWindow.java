package io.vrsky.consumer.snapshot;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The bookkeeping of one backfill chunk between its low and high watermark (DBLog): the keys of
 * the table's rows that changed in the stream inside the window. At the high watermark those rows
 * are dropped from the chunk (the stream carries a change of them that is at least as new), the
 * rest is published there, in commit order. A TRUNCATE of the table inside the window drops the
 * whole chunk. Not thread-safe: the replication thread's.
 */
final class WatermarkWindow {

    /** A row of the chunk: its key values and its encoded READ change. */
    record Row(List<String> key, byte[] json) {
    }

    private final Set<List<String>> changed = new HashSet<>();
    private boolean open;
    private boolean truncated;

    /** The low watermark was seen: from now on changes count. */
    void open() {
        open = true;
    }

    boolean isOpen() {
        return open;
    }

    /** A change of the table's row with this key inside the window (before and after keys of an update both count). */
    void changed(List<String> key) {
        if (open && key != null) {
            changed.add(key);
        }
    }

    /** The table was truncated inside the window. */
    void truncated() {
        if (open) {
            truncated = true;
        }
    }

    /** The rows of {@code chunk} to publish at the high watermark: those no change inside the window touched. */
    List<Row> keep(List<Row> chunk) {
        if (truncated) {
            return List.of();
        }
        List<Row> kept = new ArrayList<>(chunk.size());
        for (Row row : chunk) {
            if (!changed.contains(row.key())) {
                kept.add(row);
            }
        }
        return kept;
    }

    /** How many keys changed inside the window so far. */
    int changedKeys() {
        return changed.size();
    }
}
