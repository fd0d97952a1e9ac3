package io.vrsky.producer.subscribe;

import io.nats.client.Connection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Acknowledges JetStream messages by their ack subject (so a held message needs no more memory
 * than its subject: a million-row chunked transaction keeps a few kilobytes per chunk, not the
 * chunks) and keeps every delivered, not yet acknowledged message alive with in-progress acks.
 *
 * <p>The loop thread adds and acks; the heartbeat thread only reads. Thread-safe.
 */
public final class InFlight {

    private static final Logger LOG = LoggerFactory.getLogger(InFlight.class);
    private static final byte[] ACK = "+ACK".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NAK = "-NAK".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] IN_PROGRESS = "+WPI".getBytes(StandardCharsets.US_ASCII);

    private final Connection connection;
    private final ConcurrentSkipListMap<Long, String> held = new ConcurrentSkipListMap<>();

    public InFlight(Connection connection) {
        this.connection = connection;
    }

    /** Records a delivered message until it is acked. */
    public void hold(RawMessage message) {
        if (message.replyTo() != null) {
            held.put(message.streamSeq(), message.replyTo());
        }
    }

    public void ack(long streamSeq) {
        String replyTo = held.remove(streamSeq);
        if (replyTo != null) {
            connection.publish(replyTo, ACK);
        }
    }

    public void ackAll(Collection<Long> streamSeqs) {
        streamSeqs.stream().sorted().forEach(this::ack);
    }

    /** Asks for redelivery now (used at shutdown for messages of an unfinished transaction). */
    public void nak(long streamSeq) {
        String replyTo = held.remove(streamSeq);
        if (replyTo != null) {
            connection.publish(replyTo, NAK);
        }
    }

    public void nakAll(Collection<Long> streamSeqs) {
        streamSeqs.stream().sorted().forEach(this::nak);
    }

    /** Resets the ack timer of every held message (called every ackWait / 3). */
    public void heartbeat() {
        int count = 0;
        for (Map.Entry<Long, String> e : held.entrySet()) {
            connection.publish(e.getValue(), IN_PROGRESS);
            count++;
        }
        if (count > 0) {
            LOG.debug("sent in-progress for {} held messages", count);
        }
    }
}
