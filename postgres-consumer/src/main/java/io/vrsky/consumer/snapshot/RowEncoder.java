package io.vrsky.consumer.snapshot;

import io.vrsky.consumer.encode.ChangeEncoder;
import io.vrsky.consumer.encode.ChangeEncoder.Before;
import io.vrsky.consumer.encode.ChangeEncoder.TxStrings;
import io.vrsky.consumer.encode.ValueDecoder;
import io.vrsky.consumer.pgoutput.PgOutputException;
import io.vrsky.consumer.pgoutput.TupleView;
import io.vrsky.core.model.Operation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns COPY rows of a snapshot into READ changes with the same encoder (and so the same JSON)
 * as streamed rows: {@code before} null, {@code after} the whole row. A value that does not
 * convert, or a row too large for one message, becomes a placeholder as in the stream (the
 * producer dead-letters the message that holds it). Not thread-safe: one per copying thread.
 */
final class RowEncoder {

    private static final Logger LOG = LoggerFactory.getLogger(RowEncoder.class);

    private final ChangeEncoder encoder;
    private final CopyRows copyRows = new CopyRows();
    private final TupleView view = new TupleView();
    private final long maxChangeBytes;

    /** @param compact encode the compact layout's changes (their table and transaction entries go in each message once) */
    RowEncoder(long maxChangeBytes, boolean compact) {
        this.maxChangeBytes = maxChangeBytes;
        this.encoder = new ChangeEncoder(new ValueDecoder(), compact);
    }

    /** The compact layout's entry of {@code t} for the messages of its rows; null for the standard layout. */
    byte[] tableEntry(SnapshotTable t) {
        return encoder.compact() ? t.relation().tableEntry() : null;
    }

    /** The compact layout's entry of the snapshot's transaction fields; null for the standard layout. */
    byte[] transactionEntry(TxStrings tx) {
        return encoder.compact() ? tx.entry() : null;
    }

    /** Reads {@code copyRow} into the view (its key is then {@link #key}); returns the READ change's JSON. */
    byte[] encode(SnapshotTable t, TxStrings tx, long lsn, byte[] copyRow) {
        copyRows.read(copyRow, t.relation().columns().size(), view);
        byte[] json;
        try {
            json = encoder.encode(Operation.READ, t.relation(), tx, lsn, Before.NONE, null, view);
        } catch (PgOutputException e) {
            LOG.warn("a row of {} cannot be converted ({}): it is published as an undecodable placeholder", t.id(), e.getMessage());
            return encoder.undecodable(Operation.READ, t.relation(), tx, lsn, view, e.getMessage()).json();
        }
        if (encoder.footprint(t.relation(), json) > maxChangeBytes) {
            ChangeEncoder.Placeholder p = encoder.oversized(Operation.READ, t.relation(), tx, lsn, view, json.length, maxChangeBytes);
            LOG.warn("a row of {} with key {} encodes to {} bytes, more than the {} a message can carry: it is published as an"
                    + " oversized placeholder", t.id(), p.key(), json.length, maxChangeBytes);
            return p.json();
        }
        return json;
    }

    /** The TRUNCATE that starts the copy of a table without a key. */
    byte[] truncate(SnapshotTable t, TxStrings tx, long lsn) {
        return encoder.encode(Operation.TRUNCATE, t.relation(), tx, lsn, Before.NONE, null, null);
    }

    /** The key values (text) of the row read last; empty for a table without a key. */
    List<String> key(SnapshotTable t) {
        return key(t, view);
    }

    /** The key values (text) of {@code tuple}, a row of {@code t}; null when a key value is missing. */
    static List<String> key(SnapshotTable t, TupleView tuple) {
        List<String> key = new ArrayList<>(t.keyIndex().length);
        for (int i : t.keyIndex()) {
            if (i >= tuple.size() || tuple.kind(i) != TupleView.TEXT) {
                return null;
            }
            key.add(new String(tuple.data(), tuple.offset(i), tuple.length(i), StandardCharsets.UTF_8));
        }
        return key;
    }
}
