package io.vrsky.producer.subscribe;

import io.nats.client.Connection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Acknowledges JetStream messages by their ack subject (so a held message needs no more memory
 * than its subject: a million-row chunked transaction keeps a few kilobytes per chunk, not the
 * chunks) and keeps every delivered, not yet acknowledged message alive with in-progress acks.
 * Ack subjects are unique per delivery, so a stream sequence reused after a broker crash can
 * never be acknowledged by mistake.
 *
 * <p>The fetch thread holds, the loop thread acks, the heartbeat thread only reads. Thread-safe.
 */
public final class InFlight {

    private static final Logger LOG = LoggerFactory.getLogger(InFlight.class);
    private static final byte[] ACK = "+ACK".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NAK = "-NAK".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] IN_PROGRESS = "+WPI".getBytes(StandardCharsets.US_ASCII);

    private final Connection connection;
    private final Set<String> held = ConcurrentHashMap.newKeySet();

    public InFlight(Connection connection) {
        this.connection = connection;
    }

    /** Records a delivered message until it is acked. */
    public void hold(RawMessage message) {
        if (message.replyTo() != null) {
            held.add(message.replyTo());
        }
    }

    /** Acknowledges the messages with these ack subjects, in the given (stream) order. */
    public void ackAll(List<String> replyTos) {
        for (String replyTo : replyTos) {
            if (replyTo != null && held.remove(replyTo)) {
                connection.publish(replyTo, ACK);
            }
        }
    }

    /** Asks for redelivery now (used at shutdown for messages of an unfinished transaction). */
    public void nakAll(List<String> replyTos) {
        for (String replyTo : replyTos) {
            if (replyTo != null && held.remove(replyTo)) {
                connection.publish(replyTo, NAK);
            }
        }
    }

    /** Asks for redelivery of every held message (stopping while stalled: nothing held is applied). */
    public void nakEverything() {
        nakAll(List.copyOf(held));
    }

    /** How many delivered messages are not acknowledged yet. */
    public int held() {
        return held.size();
    }

    /** Resets the ack timer of every held message (called every ackWait / 3). */
    public void heartbeat() {
        int count = 0;
        for (String replyTo : held) {
            connection.publish(replyTo, IN_PROGRESS);
            count++;
        }
        if (count > 0) {
            LOG.debug("sent in-progress for {} held messages", count);
        }
    }
}
