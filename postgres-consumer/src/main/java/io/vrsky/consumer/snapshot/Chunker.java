package io.vrsky.consumer.snapshot;

import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.TableId;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Cuts one table's encoded rows into messages of at most {@code batchSize} changes and
 * {@code maxBytes} bytes, numbered on from {@code firstChunk}. One message is held back until the
 * next row (or {@link #finish}) shows whether it is the table's last, so the last one is flagged.
 * Not thread-safe.
 */
final class Chunker {

    /** A message and the progress its acknowledgement records. */
    record Cut(SnapshotMessage message, List<String> lastKey, boolean tableDone) {
    }

    private final String snapshotId;
    private final TableId table;
    private final int batchSize;
    private final long maxBytes;
    private final Lsn consistentLsn;
    private final byte[] tableEntry;
    private final byte[] transactionEntry;
    /** What every message carries besides its rows: the compact layout's two entries. */
    private final long overhead;
    private final Consumer<Cut> out;
    private int next;

    private final List<byte[]> rows = new ArrayList<>();
    private long bytes;
    private List<String> lastKey;
    private Instant readAt;
    private SnapshotMessage held;
    private List<String> heldKey;

    /**
     * @param tableEntry       the compact layout's entry of the table, null for the standard layout
     * @param transactionEntry the compact layout's entry of the rows' transaction fields, null for the standard layout
     */
    Chunker(String snapshotId, TableId table, int firstChunk, int batchSize, long maxBytes, Lsn consistentLsn, byte[] tableEntry,
            byte[] transactionEntry, Consumer<Cut> out) {
        this.snapshotId = snapshotId;
        this.table = table;
        this.next = firstChunk;
        this.batchSize = batchSize;
        this.maxBytes = maxBytes;
        this.consistentLsn = consistentLsn;
        this.tableEntry = tableEntry;
        this.transactionEntry = transactionEntry;
        this.overhead = (tableEntry == null ? 0 : tableEntry.length) + (transactionEntry == null ? 0 : transactionEntry.length);
        this.out = out;
    }

    /** Adds a row (or a TRUNCATE) whose key is {@code key} (null for none), read at {@code at}. */
    void add(byte[] json, List<String> key, Instant at) {
        if (!rows.isEmpty() && (rows.size() >= batchSize || overhead + bytes + json.length > maxBytes)) {
            cut();
        }
        rows.add(json);
        bytes += json.length;
        if (key != null) {
            lastKey = key;
        }
        if (readAt == null) {
            readAt = at;
        }
    }

    private void cut() {
        SnapshotMessage m = new SnapshotMessage(snapshotId, table, next++, false, rows, bytes, consistentLsn, readAt, tableEntry,
                transactionEntry);
        rows.clear();
        bytes = 0;
        readAt = null;
        if (held != null) {
            out.accept(new Cut(held, heldKey, false));
        }
        held = m;
        heldKey = lastKey;
    }

    /**
     * Sends what is held; {@code tableDone}: the table has no more rows, so the last message is
     * flagged as its last chunk.
     */
    void finish(boolean tableDone) {
        if (!rows.isEmpty()) {
            cut();
        }
        if (held != null) {
            SnapshotMessage m = held;
            if (tableDone) {
                m = new SnapshotMessage(m.snapshotId(), m.table(), m.chunk(), true, m.changes(), m.bytes(), m.consistentLsn(), m.readAt(),
                        m.tableEntry(), m.transactionEntry());
            }
            out.accept(new Cut(m, heldKey, tableDone));
            held = null;
        }
    }

    /** The next chunk number this chunker would use. */
    int nextChunk() {
        return next;
    }
}
