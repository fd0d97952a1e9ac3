package io.vrsky.consumer.tx;

import io.vrsky.core.model.Lsn;

import java.time.Instant;
import java.util.Objects;

/** A source transaction as Begin describes it; {@code commitLsn} is the LSN of its commit record. */
public record TxInfo(long txId, Lsn commitLsn, Instant commitTime) {
    public TxInfo {
        Objects.requireNonNull(commitLsn, "commitLsn");
        Objects.requireNonNull(commitTime, "commitTime");
    }
}
