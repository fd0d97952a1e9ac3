package io.vrsky.consumer.tx;

import io.vrsky.consumer.encode.ChangeEncoder.Before;
import io.vrsky.consumer.encode.ChangeEncoder.TxStrings;
import io.vrsky.consumer.encode.ChangeEncoder;
import io.vrsky.consumer.encode.EncodedChange;
import io.vrsky.consumer.encode.RelationCache;
import io.vrsky.consumer.encode.RelationInfo;
import io.vrsky.consumer.filter.OperationFilter;
import io.vrsky.consumer.filter.TableFilter;
import io.vrsky.consumer.pgoutput.PgOutputDecoder;
import io.vrsky.consumer.pgoutput.PgOutputException;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Begin;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Commit;
import io.vrsky.consumer.pgoutput.PgOutputMessage.OldTupleKind;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Relation;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Truncate;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Type;
import io.vrsky.consumer.pgoutput.PgOutputMessage;
import io.vrsky.consumer.pgoutput.RowView;
import io.vrsky.consumer.pgoutput.TupleView;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.nio.ByteBuffer;

/**
 * Turns the pgoutput stream into transactions: decodes each message, keeps the relation cache
 * current, filters by table and operation, encodes each change and hands begin / change / commit
 * to the {@link TransactionSink}. Row messages (Insert, Update, Delete) are read in place
 * ({@link PgOutputDecoder#readRow}) and encoded straight from the replication buffer; the other
 * messages are decoded into {@link PgOutputMessage} records. Begin and Commit out of order are
 * protocol errors.
 *
 * <p>A change is never dropped from its transaction: one whose JSON is larger than a message can
 * carry becomes an {@code oversized} placeholder (with the row's key; logged at WARN), and a row
 * message that cannot be decoded or converted, or names a relation never described, goes to the
 * dead letters with its raw bytes and becomes an {@code undecodable} placeholder. Either way the
 * producer sees that the transaction is incomplete and does not apply it.
 *
 * <p>Used by the replication thread only; not thread-safe.
 */
public final class TransactionAssembler {

    private static final Logger LOG = LoggerFactory.getLogger(TransactionAssembler.class);

    private final PgOutputDecoder decoder;
    private final RelationCache relations;
    private final TableFilter tables;
    private final OperationFilter operations;
    private final ChangeEncoder encoder;
    private final long maxChangeBytes;
    private final TransactionSink sink;
    private final DeadLetters deadLetters;
    private StreamObserver observer = StreamObserver.NONE;

    private final RowView rowView = new RowView();
    private TxInfo tx;
    private TxStrings txStrings;
    /** The place in the transaction of the next row (see {@link DeadLetters}). */
    private int index;
    private long filtered;

    /**
     * @param maxChangeBytes the most bytes one change may encode to (what a message can carry);
     *                       a larger one is replaced by a placeholder
     */
    public TransactionAssembler(PgOutputDecoder decoder, RelationCache relations, TableFilter tables, OperationFilter operations,
                                ChangeEncoder encoder, long maxChangeBytes, TransactionSink sink, DeadLetters deadLetters) {
        this.decoder = decoder;
        this.relations = relations;
        this.tables = tables;
        this.operations = operations;
        this.encoder = encoder;
        this.maxChangeBytes = maxChangeBytes;
        this.sink = sink;
        this.deadLetters = deadLetters;
    }

    /** Lets {@code observer} see transactions, rows and logical messages (the snapshot machinery). */
    public void observe(StreamObserver observer) {
        this.observer = observer;
    }

    /**
     * Handles one pgoutput message.
     *
     * @param lsn the WAL position the server sent with it (the change's own LSN for row messages)
     * @throws ProtocolException when the stream itself makes no sense
     * @throws Exception         when the catalog cannot be read (retry the session)
     */
    public void accept(ByteBuffer buffer, Lsn lsn) throws Exception {
        byte tag = buffer.hasRemaining() ? buffer.get(buffer.position()) : 0;
        switch (tag) {
            case 'I', 'U', 'D' -> acceptRow(buffer, lsn);
            case 'B' -> begin(buffer, lsn);
            case 'C' -> commit(buffer, lsn);
            default -> acceptOther(buffer, lsn);
        }
    }

    private void begin(ByteBuffer buffer, Lsn lsn) throws InterruptedException {
        Begin b;
        try {
            b = decoder.decodeBegin(buffer);
        } catch (PgOutputException e) {
            throw new ProtocolException("cannot decode pgoutput message at LSN " + lsn + ": " + e.getMessage(), e);
        }
        if (tx != null) {
            throw new ProtocolException("Begin of transaction " + b.xid() + " at LSN " + lsn + " inside transaction " + tx.txId());
        }
        tx = new TxInfo(b.xid(), b.finalLsn(), b.commitTime());
        txStrings = TxStrings.of(tx.txId(), tx.commitLsn(), tx.commitTime());
        index = 0;
        MDC.put("txId", Long.toString(b.xid()));
        MDC.put("lsn", b.finalLsn().toString());
        try {
            observer.begin(tx);
        } catch (InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        sink.begin(tx);
    }

    private void commit(ByteBuffer buffer, Lsn lsn) throws InterruptedException {
        Commit c;
        try {
            c = decoder.decodeCommit(buffer);
        } catch (PgOutputException e) {
            throw new ProtocolException("cannot decode pgoutput message at LSN " + lsn + ": " + e.getMessage(), e);
        }
        if (tx == null) {
            throw new ProtocolException("Commit at LSN " + lsn + " outside a transaction");
        }
        if (!c.commitLsn().equals(tx.commitLsn())) {
            throw new ProtocolException("Commit LSN " + c.commitLsn() + " does not match Begin's final LSN " + tx.commitLsn());
        }
        TxInfo done = tx;
        tx = null;
        txStrings = null;
        sink.commit(done, c.endLsn());
        MDC.remove("txId");
        MDC.remove("lsn");
    }

    /** The rare messages: Relation, Type, Truncate, Origin, logical decoding messages. */
    private void acceptOther(ByteBuffer buffer, Lsn lsn) throws Exception {
        PgOutputMessage message;
        try {
            message = decoder.decode(buffer);
        } catch (PgOutputException e) {
            char tag = buffer.remaining() > 0 ? (char) buffer.get(buffer.position()) : '?';
            if (tx != null && tag == 'T') {
                String error = "cannot decode pgoutput message at LSN " + lsn + ": " + e.getMessage();
                deadLetter(buffer, error, index++);
                unknownRow(Operation.TRUNCATE, "unknown relation", lsn, error);
                return;
            }
            throw new ProtocolException("cannot decode pgoutput message at LSN " + lsn + ": " + e.getMessage(), e);
        }
        if (message instanceof Relation r) {
            RelationInfo info = relations.put(r);
            LOG.debug("relation {} is {} with {} column(s), replica identity '{}'", r.relationId(), info.table(),
                    info.columns().size(), r.replicaIdentity());
        } else if (message instanceof Type t) {
            relations.invalidateType(t.typeOid());
        } else if (message instanceof PgOutputMessage.Message m) {
            observer.message(m, tx, lsn);
        } else if (message instanceof Truncate t) {
            for (int relationId : t.relationIds()) {
                row(buffer, lsn, Operation.TRUNCATE, relationId, Before.NONE, null, null, index++);
            }
        } else {
            LOG.debug("ignoring {} at LSN {}", message, lsn);
        }
    }

    private void acceptRow(ByteBuffer buffer, Lsn lsn) throws InterruptedException {
        RowView r = rowView;
        int n = index++;
        byte tag = buffer.get(buffer.position());
        try {
            decoder.readRow(buffer, r);
        } catch (PgOutputException e) {
            if (tx != null) {
                String error = "cannot decode pgoutput message at LSN " + lsn + ": " + e.getMessage();
                deadLetter(buffer, error, n);
                unknownRow(tag == 'I' ? Operation.INSERT : tag == 'U' ? Operation.UPDATE : Operation.DELETE, "unknown relation", lsn, error);
                return;
            }
            throw new ProtocolException("cannot decode pgoutput message at LSN " + lsn + ": " + e.getMessage(), e);
        }
        switch (r.tag()) {
            case 'I' -> row(buffer, lsn, Operation.INSERT, r.relationId(), Before.NONE, null, r.newTuple(), n);
            case 'U' -> {
                if (r.oldKind() == OldTupleKind.NONE) {
                    row(buffer, lsn, Operation.UPDATE, r.relationId(), Before.KEY_COLUMNS, r.newTuple(), r.newTuple(), n);
                } else {
                    row(buffer, lsn, Operation.UPDATE, r.relationId(), before(r.oldKind()), r.oldTuple(), r.newTuple(), n);
                }
            }
            default -> row(buffer, lsn, Operation.DELETE, r.relationId(), before(r.oldKind()), r.oldTuple(), null, n);
        }
    }

    private static Before before(OldTupleKind kind) {
        return kind == OldTupleKind.OLD ? Before.ALL_COLUMNS : Before.KEY_COLUMNS;
    }

    private void row(ByteBuffer raw, Lsn lsn, Operation op, int relationId, Before before, TupleView beforeTuple,
                     TupleView afterTuple, int n) throws InterruptedException {
        try {
            rowChecked(raw, lsn, op, relationId, before, beforeTuple, afterTuple, n);
        } catch (InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) { // the snapshot machinery failed (a source or NATS call): the session ends and retries
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private void rowChecked(ByteBuffer raw, Lsn lsn, Operation op, int relationId, Before before, TupleView beforeTuple,
                            TupleView afterTuple, int n) throws Exception {
        if (tx == null) {
            throw new ProtocolException(op + " at LSN " + lsn + " outside a transaction");
        }
        RelationInfo rel = relations.get(relationId);
        if (rel == null) {
            String error = op + " at LSN " + lsn + " names relation id " + Integer.toUnsignedString(relationId)
                    + ", which no Relation message described";
            deadLetter(raw, error, n);
            unknownRow(op, "relation " + Integer.toUnsignedString(relationId), lsn, error);
            return;
        }
        if (!observer.row(rel, op, beforeTuple, afterTuple) || !tables.accepts(rel.table()) || !operations.accepts(op)) {
            filtered++;
            return;
        }
        TupleView keyTuple = afterTuple != null ? afterTuple : beforeTuple;
        byte[] json;
        try {
            json = encoder.encode(op, rel, txStrings, lsn.value(), before, beforeTuple, afterTuple);
        } catch (PgOutputException e) {
            String error = "cannot convert " + op + " on " + rel.table() + " at LSN " + lsn + " (txId " + tx.txId() + "): "
                    + e.getMessage();
            deadLetter(raw, error, n);
            sink.change(fitting(encoder.undecodable(op, rel, txStrings, lsn.value(), keyTuple, e.getMessage()).json(), op, rel, lsn,
                    e.getMessage()));
            return;
        }
        if (encoder.footprint(rel, json) > maxChangeBytes) {
            ChangeEncoder.Placeholder p = encoder.oversized(op, rel, txStrings, lsn.value(), keyTuple, json.length, maxChangeBytes);
            LOG.warn("{} on {} at LSN {} (txId {}) with key {} encodes to {} bytes, more than the {} a message can carry: it is"
                    + " published as an oversized placeholder, and its transaction is not applied by the producer",
                    op, rel.table(), lsn, tx.txId(), p.key(), json.length, maxChangeBytes);
            sink.change(fitting(p.json(), op, rel, lsn, "the change encodes to " + json.length + " bytes, more than the "
                    + maxChangeBytes + " a message can carry"));
            return;
        }
        sink.change(encoded(rel, op, json));
    }

    /** A change of {@code rel} as the batcher takes it: in the compact layout with its table's entry. */
    private EncodedChange encoded(RelationInfo rel, Operation op, byte[] json) {
        return encoder.compact() ? new EncodedChange(rel.table(), op, json, rel.tableEntry()) : new EncodedChange(rel.table(), op, json);
    }

    /**
     * {@code placeholder}, or when even it is too large (a very wide table), one without columns and
     * key, which names its table itself (no table entry).
     */
    private EncodedChange fitting(byte[] placeholder, Operation op, RelationInfo rel, Lsn lsn, String error) {
        if (encoder.footprint(rel, placeholder) <= maxChangeBytes) {
            return encoded(rel, op, placeholder);
        }
        return new EncodedChange(rel.table(), op, encoder.undecodable(op, rel.table().toString(), txStrings, lsn.value(), error).json());
    }

    /** The placeholder of a row whose relation is unknown or whose message could not be read. */
    private void unknownRow(Operation op, String table, Lsn lsn, String error) throws InterruptedException {
        byte[] json = encoder.undecodable(op, table, txStrings, lsn.value(), error).json();
        sink.change(new EncodedChange(new TableId("", table), op, json));
    }

    private void deadLetter(ByteBuffer raw, String error, int n) throws InterruptedException {
        ByteBuffer copy = raw.duplicate();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        LOG.error("sending row {} of transaction {} to the dead letters: {}", n, tx.txId(), error);
        deadLetters.deadLetter(bytes, error, tx, n);
    }

    /** Whether a transaction has begun and not committed yet. */
    public boolean inTransaction() {
        return tx != null;
    }

    /** Changes skipped by the table or operation filter so far. */
    public long filtered() {
        return filtered;
    }

    /** Forgets a half-read transaction (the session ended; the server sends it again). */
    public void reset() {
        tx = null;
        txStrings = null;
        MDC.remove("txId");
        MDC.remove("lsn");
    }
}
