package io.vrsky.consumer.encode;

import io.vrsky.consumer.pgoutput.PgOutputException;
import io.vrsky.consumer.pgoutput.TupleView;
import io.vrsky.core.codec.EnvelopeWriter;
import io.vrsky.core.codec.JsonBuffer;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;

import java.time.Instant;
import java.util.List;

/**
 * Encodes one change straight from pgoutput's tuple bytes into the JSON object of
 * {@code payload.changes[]} (field order as envelope-core's EnvelopeCodec writes it), so a change
 * is held as compact bytes from the moment it is read. What is the same for every change of a
 * table or of a transaction is copied from fragments encoded once ({@link RelationInfo},
 * {@link TxStrings}); values are converted from the message bytes by the {@link ValueDecoder}.
 * One buffer is reused for every change.
 *
 * <p>Used by the replication thread only; not thread-safe.
 */
public final class ChangeEncoder {

    private static final byte[] AFTER = ",\"after\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] TOAST = ",\"unchangedToast\":[".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] COMPACT_AFTER_LSN = "\",\"before\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] NO_IMAGES = "null,\"after\":null,\"key\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** For a table without key columns, the placeholder's key holds the columns whose value encodes to at most this. */
    static final int MAX_KEY_VALUE_BYTES = 256;

    /** What a row's {@code before} is made of. */
    public enum Before {
        /** no before image (INSERT, TRUNCATE). */
        NONE,
        /** the key columns of the given tuple. */
        KEY_COLUMNS,
        /** every column of the given tuple (REPLICA IDENTITY FULL). */
        ALL_COLUMNS
    }

    /**
     * What a compact-layout change counts for on top of its own bytes besides its table's entry:
     * its transaction's entry (<code>{"txId":…,"commitLsn":"…","commitTime":"…"}</code> and a comma:
     * at most 20 digits, 17 characters of LSN and 30 of instant, 40 of punctuation and names).
     */
    static final int TRANSACTION_ENTRY_BYTES = 128;

    private final ValueDecoder values;
    private final boolean compact;
    private final JsonBuffer out = new JsonBuffer(4096);
    private int[] toast = new int[16];
    private int toastCount;

    /** An encoder of the standard layout's changes. */
    public ChangeEncoder(ValueDecoder values) {
        this(values, false);
    }

    /**
     * @param compact write the compact layout's changes: the table named by its {@code ref}, the
     *                transaction by its {@code txId} only (their entries go in the message once)
     */
    public ChangeEncoder(ValueDecoder values, boolean compact) {
        this.values = values;
        this.compact = compact;
    }

    /** Whether this encoder writes the compact layout's changes. */
    public boolean compact() {
        return compact;
    }

    /**
     * The bytes a change of {@code rel} encoded to {@code json} may add to a message: its own, and in
     * the compact layout its table's and transaction's entries (when it is the first to name them).
     */
    public long footprint(RelationInfo rel, byte[] json) {
        return compact ? json.length + rel.tableEntry().length + 1 + TRANSACTION_ENTRY_BYTES : json.length;
    }

    /**
     * A transaction's part of every change, encoded once: its txId value and the commit fields up
     * to the opening quote of the change's {@code lsn}.
     */
    public static final class TxStrings {
        private final long txId;
        private final byte[] fragment;
        /** The compact layout's: the txId value and the opening of {@code lsn} (the commit fields are in the transaction's entry). */
        private final byte[] compactFragment;
        private final Lsn commitLsn;
        private final Instant commitTime;

        private TxStrings(long txId, byte[] fragment, byte[] compactFragment, Lsn commitLsn, Instant commitTime) {
            this.txId = txId;
            this.fragment = fragment;
            this.compactFragment = compactFragment;
            this.commitLsn = commitLsn;
            this.commitTime = commitTime;
        }

        public static TxStrings of(long txId, Lsn commitLsn, Instant commitTime) {
            JsonBuffer b = new JsonBuffer(96);
            b.number(txId).ascii(",\"commitLsn\":\"").lsn(commitLsn.value()).ascii("\",\"commitTime\":\"")
                    .instant(commitTime).ascii("\",\"lsn\":\"");
            byte[] fragment = b.toByteArray();
            b.reset();
            return new TxStrings(txId, fragment, b.number(txId).ascii(",\"lsn\":\"").toByteArray(), commitLsn, commitTime);
        }

        /** The compact layout's entry of the transaction in {@code payload.transactions} (made on each call). */
        public byte[] entry() {
            return EnvelopeWriter.transactionEntry(txId, commitLsn, commitTime);
        }

        public long txId() {
            return txId;
        }
    }

    /**
     * @param lsn         the change's own LSN
     * @param beforeTuple the tuple {@code before} is taken from (the old tuple, or for an update
     *                    without one the new tuple's key columns); null for none
     * @param afterTuple  the new tuple; null for DELETE and TRUNCATE
     * @throws PgOutputException when a value cannot be converted or the tuple does not match the relation
     */
    public byte[] encode(Operation op, RelationInfo rel, TxStrings tx, long lsn, Before before, TupleView beforeTuple,
                         TupleView afterTuple) {
        out.reset();
        try {
            write(op, rel, tx, lsn, before, beforeTuple, afterTuple);
        } catch (PgOutputException e) {
            throw e;
        } catch (RuntimeException e) { // its message may quote the value: keep it out of what is logged and published
            throw new PgOutputException("cannot convert a value (" + e.getClass().getSimpleName() + ")", e);
        }
        return out.toByteArray();
    }

    /** A placeholder change and the JSON of the key it carries (for the log line). */
    public record Placeholder(byte[] json, String key) {
    }

    /**
     * The placeholder for a change whose JSON ({@code bytes} long) exceeds what one message can
     * carry ({@code limit}): op, table, transaction and LSN as the change had them, no images,
     * the row's key, and {@code "oversized":{"bytes":N,"limit":M}}.
     *
     * @param keyTuple the tuple the key is taken from (the new row, or the old one for DELETE)
     */
    public Placeholder oversized(Operation op, RelationInfo rel, TxStrings tx, long lsn, TupleView keyTuple, long bytes, long limit) {
        String key = placeholderHead(op, rel, tx, lsn, keyTuple);
        out.ascii(",\"oversized\":{\"bytes\":").number(bytes).ascii(",\"limit\":").number(limit).ascii("}}");
        return new Placeholder(out.toByteArray(), key);
    }

    /**
     * The placeholder for a row that could not be converted: like {@link #oversized} but with
     * {@code "undecodable":{"error":"<reason>"}}; key values that do not convert are left out.
     */
    public Placeholder undecodable(Operation op, RelationInfo rel, TxStrings tx, long lsn, TupleView keyTuple, String error) {
        String key = placeholderHead(op, rel, tx, lsn, keyTuple);
        out.ascii(",\"undecodable\":{\"error\":").string(error).ascii("}}");
        return new Placeholder(out.toByteArray(), key);
    }

    /**
     * The placeholder for a row message whose relation is unknown or that could not be read at all:
     * no columns, no key; {@code table} names what is known ({@code relation <oid>}).
     */
    public Placeholder undecodable(Operation op, String table, TxStrings tx, long lsn, String error) {
        out.reset();
        out.ascii("{\"op\":").string(op.name()).ascii(",\"schema\":null,\"table\":").string(table).ascii(",\"txId\":")
                .raw(txFragment(tx)).lsn(lsn).ascii("\",\"columns\":[],\"before\":").raw(NO_IMAGES).ascii("{}")
                .ascii(",\"unchangedToast\":[],\"undecodable\":{\"error\":").string(error).ascii("}}");
        return new Placeholder(out.toByteArray(), "{}");
    }

    /** Writes a placeholder up to and with its {@code unchangedToast}; returns the key's JSON. */
    private String placeholderHead(Operation op, RelationInfo rel, TxStrings tx, long lsn, TupleView keyTuple) {
        out.reset();
        opening(op, rel, tx, lsn).raw(NO_IMAGES);
        int keyStart = out.length();
        key(rel, keyTuple);
        String key = new String(out.array(), keyStart, out.length() - keyStart, java.nio.charset.StandardCharsets.UTF_8);
        out.ascii(",\"unchangedToast\":[]");
        return key;
    }

    /**
     * The key of a placeholder: the columns that identify the row (primary key or replica identity),
     * or for a table without any (none, or REPLICA IDENTITY FULL without a primary key) every column
     * whose value encodes to at most {@value #MAX_KEY_VALUE_BYTES} bytes. Values that are missing
     * (unchanged TOAST) or do not convert are left out.
     */
    private void key(RelationInfo rel, TupleView tuple) {
        out.raw((byte) '{');
        List<RelationInfo.Column> columns = rel.columns();
        if (tuple != null && tuple.size() == columns.size()) {
            boolean identified = rel.hasKey() && !(rel.replicaIdentity() == 'f' && columns.stream().allMatch(RelationInfo.Column::key));
            boolean first = true;
            byte[] data = tuple.data();
            for (int i = 0; i < columns.size(); i++) {
                RelationInfo.Column column = columns.get(i);
                byte kind = tuple.kind(i);
                if ((identified && !column.key()) || (kind != TupleView.TEXT && kind != TupleView.NULL)) {
                    continue;
                }
                int mark = out.length();
                if (!first) {
                    out.raw((byte) ',');
                }
                out.raw(rel.fieldName(i));
                int valueStart = out.length();
                try {
                    if (kind == TupleView.NULL) {
                        out.nullValue();
                    } else {
                        values.write(out, column.type(), data, tuple.offset(i), tuple.length(i));
                    }
                } catch (RuntimeException e) { // a key value that does not convert is left out
                    out.truncate(mark);
                    continue;
                }
                if (!identified && out.length() - valueStart > MAX_KEY_VALUE_BYTES) {
                    out.truncate(mark);
                    continue;
                }
                first = false;
            }
        }
        out.raw((byte) '}');
    }

    private void write(Operation op, RelationInfo rel, TxStrings tx, long lsn, Before before, TupleView beforeTuple,
                       TupleView afterTuple) {
        opening(op, rel, tx, lsn);
        if (before == Before.NONE || beforeTuple == null || (before == Before.KEY_COLUMNS && !rel.hasKey())) {
            out.nullValue();
        } else {
            row(rel, beforeTuple, before == Before.KEY_COLUMNS, false);
        }
        toastCount = 0;
        out.raw(AFTER);
        if (afterTuple == null) {
            out.nullValue();
        } else {
            row(rel, afterTuple, false, true);
        }
        out.raw(TOAST);
        for (int i = 0; i < toastCount; i++) {
            if (i > 0) {
                out.raw((byte) ',');
            }
            out.raw(rel.quotedName(toast[i]));
        }
        out.raw((byte) ']').raw((byte) '}');
    }

    /** A change up to its {@code before} value: op, table (or its ref), transaction (or its txId), lsn, columns. */
    private JsonBuffer opening(Operation op, RelationInfo rel, TxStrings tx, long lsn) {
        if (compact) {
            return out.raw(rel.compactOpening(op)).raw(tx.compactFragment).lsn(lsn).raw(COMPACT_AFTER_LSN);
        }
        return out.raw(rel.opening(op)).raw(tx.fragment).lsn(lsn).raw(rel.afterLsn());
    }

    private byte[] txFragment(TxStrings tx) {
        return compact ? tx.compactFragment : tx.fragment;
    }

    private void row(RelationInfo rel, TupleView tuple, boolean keysOnly, boolean collectToast) {
        List<RelationInfo.Column> columns = rel.columns();
        if (tuple.size() != columns.size()) {
            throw new PgOutputException("tuple has " + tuple.size() + " columns, relation " + rel.table() + " has " + columns.size());
        }
        out.raw((byte) '{');
        boolean first = true;
        byte[] data = tuple.data();
        for (int i = 0; i < columns.size(); i++) {
            RelationInfo.Column column = columns.get(i);
            if (keysOnly && !column.key()) {
                continue;
            }
            byte kind = tuple.kind(i);
            if (kind == TupleView.TEXT) {
                if (!first) {
                    out.raw((byte) ',');
                }
                first = false;
                out.raw(rel.fieldName(i));
                try {
                    values.write(out, column.type(), data, tuple.offset(i), tuple.length(i));
                } catch (PgOutputException e) {
                    throw new PgOutputException("column " + column.name() + " (" + column.type().name() + "): " + e.getMessage(), e);
                }
            } else if (kind == TupleView.NULL) {
                if (!first) {
                    out.raw((byte) ',');
                }
                first = false;
                out.raw(rel.fieldName(i)).nullValue();
            } else if (kind == TupleView.UNCHANGED_TOAST) {
                if (collectToast) {
                    if (toastCount == toast.length) {
                        toast = java.util.Arrays.copyOf(toast, toast.length * 2);
                    }
                    toast[toastCount++] = i;
                }
            } else {
                throw new PgOutputException("column " + column.name() + " arrived in binary form, which is not requested");
            }
        }
        out.raw((byte) '}');
    }
}
