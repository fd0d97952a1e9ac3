package io.vrsky.producer.dlq;

import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.Lsn;

import java.time.Instant;

/**
 * The source transaction a dead letter holds, and where it came from.
 *
 * @param source      the envelope's source (null for other components' envelopes)
 * @param txId        null when unknown
 * @param commitLsn   null when unknown (the whole message is then one transaction)
 * @param type        the original envelope's type
 * @param time        the original envelope's time
 * @param subject     the subject of the message that held it
 * @param streamSeq   the stream sequence of that message (the first chunk's for a chunked transaction)
 */
public record DeadTransaction(String source, Long txId, Lsn commitLsn, Instant commitTime, String type, Instant time,
                              String subject, long streamSeq) {

    public DeadTransaction {
        type = type == null ? Envelope.CDC_TRANSACTION_TYPE : type;
    }

    /** For logs: {@code transaction 7412 at 0/16B3748 from postgres-consumer/db/slot}. */
    public String describe() {
        return "transaction " + (txId == null ? "?" : txId) + (commitLsn == null ? "" : " at " + commitLsn)
                + (source == null ? "" : " from " + source);
    }
}
