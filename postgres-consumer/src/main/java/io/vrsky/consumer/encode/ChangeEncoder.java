package io.vrsky.consumer.encode;

import io.vrsky.consumer.pgoutput.PgOutputException;
import io.vrsky.consumer.pgoutput.TupleView;
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

    /** What a row's {@code before} is made of. */
    public enum Before {
        /** no before image (INSERT, TRUNCATE). */
        NONE,
        /** the key columns of the given tuple. */
        KEY_COLUMNS,
        /** every column of the given tuple (REPLICA IDENTITY FULL). */
        ALL_COLUMNS
    }

    private final ValueDecoder values;
    private final JsonBuffer out = new JsonBuffer(4096);
    private int[] toast = new int[16];
    private int toastCount;

    public ChangeEncoder(ValueDecoder values) {
        this.values = values;
    }

    /**
     * A transaction's part of every change, encoded once: its txId value and the commit fields up
     * to the opening quote of the change's {@code lsn}.
     */
    public static final class TxStrings {
        private final long txId;
        private final byte[] fragment;

        private TxStrings(long txId, byte[] fragment) {
            this.txId = txId;
            this.fragment = fragment;
        }

        public static TxStrings of(long txId, Lsn commitLsn, Instant commitTime) {
            JsonBuffer b = new JsonBuffer(96);
            b.number(txId).ascii(",\"commitLsn\":\"").lsn(commitLsn.value()).ascii("\",\"commitTime\":\"")
                    .instant(commitTime).ascii("\",\"lsn\":\"");
            return new TxStrings(txId, b.toByteArray());
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
        } catch (RuntimeException e) {
            throw new PgOutputException(e.getMessage(), e);
        }
        return out.toByteArray();
    }

    private void write(Operation op, RelationInfo rel, TxStrings tx, long lsn, Before before, TupleView beforeTuple,
                       TupleView afterTuple) {
        out.raw(rel.opening(op)).raw(tx.fragment).lsn(lsn).raw(rel.afterLsn());
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
