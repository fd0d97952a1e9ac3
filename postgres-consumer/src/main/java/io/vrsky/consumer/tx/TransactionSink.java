package io.vrsky.consumer.tx;

import io.vrsky.consumer.encode.EncodedChange;
import io.vrsky.core.model.Lsn;

/** Receives the transactions the assembler puts together, change by change, in commit order. */
public interface TransactionSink {

    void begin(TxInfo tx) throws InterruptedException;

    void change(EncodedChange change) throws InterruptedException;

    /** {@code endLsn}: confirming it to PostgreSQL means this transaction is never sent again. */
    void commit(TxInfo tx, Lsn endLsn) throws InterruptedException;
}
