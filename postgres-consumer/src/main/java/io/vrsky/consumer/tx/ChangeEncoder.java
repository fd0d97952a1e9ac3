package io.vrsky.consumer.tx;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.vrsky.consumer.pgoutput.PgOutputException;
import io.vrsky.consumer.pgoutput.RelationInfo;
import io.vrsky.consumer.pgoutput.TupleData;
import io.vrsky.consumer.pgoutput.TupleValue;
import io.vrsky.consumer.pgoutput.ValueDecoder;
import io.vrsky.core.model.Operation;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes one change straight from pgoutput's tuple into the JSON object of
 * {@code payload.changes[]} (field order as envelope-core's EnvelopeCodec writes it), so a change
 * is held as compact bytes from the moment it is read. One generator is reused for every change.
 *
 * <p>Used by the replication thread only; not thread-safe.
 */
public final class ChangeEncoder {

    /** What a row's {@code before} is made of. */
    public enum Before {
        /** no before image (INSERT, TRUNCATE). */
        NONE,
        /** the key columns of the given tuple. */
        KEY_COLUMNS,
        /** every column of the given tuple (REPLICA IDENTITY FULL). */
        ALL_COLUMNS
    }

    private static final class Buffer extends ByteArrayOutputStream {
        Buffer() {
            super(1024);
        }

        byte[] take() {
            byte[] bytes = toByteArray();
            reset();
            return bytes;
        }
    }

    private final ValueDecoder values;
    private final Buffer out = new Buffer();
    private JsonGenerator g;
    private final List<String> toast = new ArrayList<>();

    public ChangeEncoder(ValueDecoder values) {
        this.values = values;
        this.g = newGenerator(out);
    }

    /** Per-transaction strings, formatted once. */
    public record TxStrings(long txId, String commitLsn, String commitTime) {
        public static TxStrings of(TxInfo tx) {
            return new TxStrings(tx.txId(), tx.commitLsn().toString(), tx.commitTime().toString());
        }
    }

    /**
     * @param beforeTuple the tuple {@code before} is taken from (the old tuple, or for an update
     *                    without one the new tuple's key columns); null for none
     * @param afterTuple  the new tuple; null for DELETE and TRUNCATE
     * @throws PgOutputException when a value cannot be converted or the tuple does not match the relation
     */
    public byte[] encode(Operation op, RelationInfo rel, TxStrings tx, String lsn, Before before, TupleData beforeTuple,
                         TupleData afterTuple) {
        try {
            return write(op, rel, tx, lsn, before, beforeTuple, afterTuple);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            recover();
            throw e instanceof PgOutputException ? e : new PgOutputException(e.getMessage(), e);
        }
    }

    private byte[] write(Operation op, RelationInfo rel, TxStrings tx, String lsn, Before before, TupleData beforeTuple,
                         TupleData afterTuple) throws IOException {
        g.writeStartObject();
        g.writeStringField("op", op.name());
        g.writeStringField("schema", rel.table().schema());
        g.writeStringField("table", rel.table().table());
        g.writeNumberField("txId", tx.txId());
        g.writeStringField("commitLsn", tx.commitLsn());
        g.writeStringField("commitTime", tx.commitTime());
        g.writeStringField("lsn", lsn);
        g.writeFieldName("columns");
        g.writeRawValue(new RawJson(rel.columnsJson()));
        g.writeFieldName("before");
        if (before == Before.NONE || beforeTuple == null || (before == Before.KEY_COLUMNS && !rel.hasKey())) {
            g.writeNull();
        } else {
            row(rel, beforeTuple, before == Before.KEY_COLUMNS, false);
        }
        toast.clear();
        g.writeFieldName("after");
        if (afterTuple == null) {
            g.writeNull();
        } else {
            row(rel, afterTuple, false, true);
        }
        g.writeArrayFieldStart("unchangedToast");
        for (String name : toast) {
            g.writeString(name);
        }
        g.writeEndArray();
        g.writeEndObject();
        g.flush();
        return out.take();
    }

    private void row(RelationInfo rel, TupleData tuple, boolean keysOnly, boolean collectToast) throws IOException {
        List<RelationInfo.Column> columns = rel.columns();
        if (tuple.size() != columns.size()) {
            throw new PgOutputException("tuple has " + tuple.size() + " columns, relation " + rel.table() + " has " + columns.size());
        }
        g.writeStartObject();
        for (int i = 0; i < columns.size(); i++) {
            RelationInfo.Column column = columns.get(i);
            if (keysOnly && !column.key()) {
                continue;
            }
            TupleValue value = tuple.get(i);
            if (value instanceof TupleValue.Text text) {
                g.writeFieldName(column.name());
                try {
                    values.write(g, column.type(), text.text());
                } catch (PgOutputException e) {
                    throw new PgOutputException("column " + column.name() + " (" + column.type().name() + "): " + e.getMessage(), e);
                }
            } else if (value instanceof TupleValue.Null) {
                g.writeNullField(column.name());
            } else if (value instanceof TupleValue.UnchangedToast) {
                if (collectToast) {
                    toast.add(column.name());
                }
            } else {
                throw new PgOutputException("column " + column.name() + " arrived in binary form, which is not requested");
            }
        }
        g.writeEndObject();
    }

    /** A failed change leaves the generator mid-object: drop it and start clean. */
    private void recover() {
        out.reset();
        g = newGenerator(out);
    }

    private static JsonGenerator newGenerator(Buffer out) {
        try {
            JsonGenerator generator = new JsonFactory().createGenerator(out);
            generator.setRootValueSeparator(null);
            return generator;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
