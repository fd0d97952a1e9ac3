package io.vrsky.producer.dlq;

import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.nats.DeadLetterPublisher;
import io.vrsky.core.nats.DeadLetterPublisher.DeadLetter;
import io.vrsky.producer.metrics.ProducerMetrics;
import io.vrsky.producer.subscribe.InboundMessage;
import io.vrsky.producer.subscribe.NatsCalls;
import io.vrsky.producer.subscribe.StoredMessages;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Sends what cannot be applied to the {@code VRSKY_DLQ} stream and waits for JetStream's ack
 * (retrying while NATS is away), so a message is acknowledged to its own stream only once its
 * dead letter is stored.
 *
 * <p>The unit is one source transaction: the body is an envelope of only that transaction's
 * changes (all its chunks' for a chunked one) with {@code metadata.error} saying why, and the
 * headers name it ({@code Vrsky-Tx-Id}, {@code Vrsky-Commit-Lsn}). A transaction too large for one
 * NATS message goes in several, each an envelope of consecutive changes numbered with
 * {@code metadata.chunk}/{@code lastChunk}. A body that could not be decoded goes as its original
 * bytes. {@code Nats-Msg-Id} is {@code dlq:<durable>:<stream sequence>:<commit LSN or "msg">}
 * (plus {@code :<part>} after the first part), so sending the same dead letter again after a
 * restart is a JetStream duplicate. Header values are made valid NATS header values by the
 * {@link DeadLetterPublisher}; an unreachable NATS is retried ({@link NatsCalls}).
 *
 * <p>Used by the loop thread only.
 */
public final class DeadLetterSink {

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterSink.class);
    /** Room left in a message for the headers. */
    static final int HEADROOM = 16 * 1024;

    private final DeadLetterPublisher publisher;
    private final String durable;
    private final long maxPayload;
    private final EnvelopeCodec codec;
    private final NatsCalls nats;
    private final ProducerMetrics metrics;

    /**
     * @param maxPayload the NATS server's largest message, in bytes
     */
    public DeadLetterSink(DeadLetterPublisher publisher, String durable, long maxPayload, EnvelopeCodec codec, NatsCalls nats,
                          ProducerMetrics metrics) {
        this.publisher = publisher;
        this.durable = durable;
        this.maxPayload = maxPayload;
        this.codec = codec;
        this.nats = nats;
        this.metrics = metrics;
    }

    /** A message whose body could not be decoded: dead-lettered as its original bytes. */
    public void sendUndecodable(InboundMessage message, Failure failure) throws Exception {
        publish(message.data(), failure, message.subject(), message.streamSeq(), msgId(message.streamSeq(), null, 0), null, null);
        metrics.deadLetter(failure.errorClass().header());
        LOG.warn("dead-lettered the undecodable message at stream sequence {} of {} ({} bytes): {}", message.streamSeq(),
                message.subject(), message.data().length, failure.forLog());
    }

    /** One source transaction whose changes are in memory. */
    public void send(DeadTransaction tx, List<Change> changes, Failure failure) throws Exception {
        List<List<Change>> parts = split(tx, changes, failure);
        for (int i = 0; i < parts.size(); i++) {
            publishPart(tx, parts.get(i), i, i == parts.size() - 1, failure);
        }
        done(tx, changes.size(), parts.size(), failure);
    }

    /**
     * A chunked transaction, its chunk messages read back from the stream one at a time (it may
     * not fit in memory); consecutive chunks share a dead letter while they fit in one message.
     */
    public void sendChunked(DeadTransaction tx, List<Long> chunkSeqs, StoredMessages stored, Failure failure) throws Exception {
        long budget = maxPayload - HEADROOM;
        List<Change> part = new ArrayList<>();
        long partBytes = 0;
        int parts = 0;
        long changes = 0;
        for (long seq : chunkSeqs) {
            InboundMessage chunk = stored.load(seq);
            if (chunk.envelope() == null) {
                continue;
            }
            if (!part.isEmpty() && partBytes + chunk.data().length > budget) {
                publishPart(tx, part, parts++, false, failure);
                part = new ArrayList<>();
                partBytes = 0;
            }
            part.addAll(chunk.envelope().changes());
            partBytes += chunk.data().length;
            changes += chunk.envelope().changes().size();
        }
        publishPart(tx, part, parts++, true, failure);
        done(tx, changes, parts, failure);
    }

    private void done(DeadTransaction tx, long changes, int parts, Failure failure) {
        metrics.deadLetter(failure.errorClass().header());
        try (MDC.MDCCloseable id = MDC.putCloseable("txId", tx.txId() == null ? null : tx.txId().toString());
             MDC.MDCCloseable lsn = MDC.putCloseable("lsn", tx.commitLsn() == null ? null : tx.commitLsn().toString())) {
            LOG.warn("dead-lettered {} (stream sequence {}, {} changes{}): {}", tx.describe(), tx.streamSeq(), changes,
                    parts > 1 ? ", in " + parts + " messages" : "", failure.forLog());
            if (LOG.isDebugEnabled()) {
                LOG.debug("{} failed: {}", tx.describe(), failure.message());
            }
        }
    }

    /** The changes in as few consecutive parts as fit in a message each. */
    private List<List<Change>> split(DeadTransaction tx, List<Change> changes, Failure failure) {
        long budget = maxPayload - HEADROOM;
        for (int parts = 1; ; parts *= 2) {
            if (parts >= changes.size()) {
                List<List<Change>> single = new ArrayList<>();
                changes.forEach(c -> single.add(List.of(c)));
                return single.isEmpty() ? List.of(List.of()) : single;
            }
            List<List<Change>> result = new ArrayList<>(parts);
            boolean fits = true;
            int size = (changes.size() + parts - 1) / parts;
            for (int from = 0; from < changes.size() && fits; from += size) {
                List<Change> part = changes.subList(from, Math.min(changes.size(), from + size));
                fits = parts == 1 ? codec.encode(envelope(tx, part, 0, true, failure)).length <= budget
                        : codec.encode(envelope(tx, part, result.size(), false, failure)).length <= budget;
                result.add(part);
            }
            if (fits) {
                return result;
            }
        }
    }

    private void publishPart(DeadTransaction tx, List<Change> changes, int part, boolean last, Failure failure) throws Exception {
        byte[] body = codec.encode(envelope(tx, changes, part, last, failure));
        publish(body, failure, tx.subject(), tx.streamSeq(), msgId(tx.streamSeq(), tx.commitLsn(), part), tx.txId(),
                tx.commitLsn());
    }

    private static Envelope envelope(DeadTransaction tx, List<Change> changes, int part, boolean last, Failure failure) {
        EnvelopeMetadata metadata = new EnvelopeMetadata(tx.txId(), tx.commitLsn(), tx.commitTime(), part, last, changes.size(), 1,
                failure.report());
        return new Envelope(UUID.randomUUID().toString(), tx.type(), tx.source(), tx.time(), metadata, changes);
    }

    private String msgId(long streamSeq, Object commitLsn, int part) {
        return "dlq:" + durable + ":" + streamSeq + ":" + (commitLsn == null ? "msg" : commitLsn) + (part > 0 ? ":" + part : "");
    }

    private void publish(byte[] body, Failure failure, String sourceSubject, long sourceSeq, String msgId, Long txId, Lsn commitLsn)
            throws Exception {
        DeadLetter letter = new DeadLetter(body, failure.message(), failure.errorClass(), failure.sqlState(), sourceSubject, sourceSeq,
                msgId, txId, commitLsn);
        nats.call("publish dead letter", () -> {
            publisher.publish(letter);
            return null;
        });
    }
}
