package io.vrsky.consumer.tx;

import io.vrsky.consumer.encode.RelationInfo;
import io.vrsky.consumer.pgoutput.PgOutputMessage;
import io.vrsky.consumer.pgoutput.TupleView;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;

/**
 * Sees the stream as the assembler reads it, for the snapshot machinery: transaction starts,
 * row changes (before the table and operation filters) and logical decoding messages. Called on
 * the replication thread, in stream order.
 */
public interface StreamObserver {

    /** Observes nothing and publishes every row. */
    StreamObserver NONE = new StreamObserver() {
    };

    /** A transaction begins (before its changes are handed on). */
    default void begin(TxInfo tx) throws Exception {
    }

    /**
     * A row change of {@code rel} (TRUNCATE: both tuples null).
     *
     * @return false when the row must not be published (a signal table's rows)
     */
    default boolean row(RelationInfo rel, Operation op, TupleView before, TupleView after) throws Exception {
        return true;
    }

    /** A logical decoding message ({@code pg_logical_emit_message}); {@code tx} is null for a non-transactional one. */
    default void message(PgOutputMessage.Message message, TxInfo tx, Lsn lsn) throws Exception {
    }
}
