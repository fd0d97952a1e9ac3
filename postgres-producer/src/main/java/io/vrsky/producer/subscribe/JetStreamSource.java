package io.vrsky.producer.subscribe;

import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.ReplayPolicy;
import io.nats.client.impl.Headers;
import io.vrsky.core.config.Env;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.codec.EnvelopeReader;
import io.vrsky.core.codec.EnvelopeFormatException;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.nats.CdcHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The durable JetStream pull consumer the producer reads: explicit acks, an ack wait long enough
 * for a batch and kept alive by in-progress acks, and a max-ack-pending high enough for a
 * transaction of many chunks.
 *
 * <p>Order matters to exactly-once (the applied position only moves forward), so on start, when
 * the durable still has unacknowledged deliveries (a previous instance died holding them), it is
 * recreated from its ack floor: JetStream would otherwise deliver newer messages at once and the
 * old ones only after their ack wait, out of order. One producer instance per durable.
 *
 * <p>Used by the loop thread only, except {@link #load(long)} which is thread-safe.
 */
public final class JetStreamSource {

    private static final Logger LOG = LoggerFactory.getLogger(JetStreamSource.class);
    private static final int CONSUMER_NOT_FOUND = 10014;
    private static final int NO_MESSAGE_FOUND = 10037;
    private static final String REPLAY = CdcHeaders.REPLAY;
    private static final String PREV_COMMIT_LSN = CdcHeaders.PREV_COMMIT_LSN;
    /** Max deliveries pending an ack: the chunks of one transaction stay unacked until its last chunk. */
    static final long MAX_ACK_PENDING = 1_000_000;

    private final Connection connection;
    /** Streaming envelope readers, one per thread (the fetch thread decodes, the loop re-reads chunks). */
    private final ThreadLocal<EnvelopeReader> readers;
    private final String stream;
    private final String filterSubject;
    private final String durable;
    private final Duration ackWait;
    private JetStreamSubscription subscription;

    public JetStreamSource(Connection connection, EnvelopeCodec codec, String stream, String filterSubject, String durable,
                           Duration ackWait) {
        this.connection = connection;
        this.readers = ThreadLocal.withInitial(codec::newReader);
        this.stream = stream;
        this.filterSubject = filterSubject;
        this.durable = durable;
        this.ackWait = ackWait;
    }

    /**
     * At start: creates, updates or (after an unclean stop) recreates the durable consumer, and
     * binds a pull subscription to it.
     */
    public void open() throws IOException, JetStreamApiException {
        ensureConsumer(true);
        bind();
    }

    /** After pull failures: binds again, creating the consumer if it vanished, never resetting it. */
    public void rebind() throws IOException, JetStreamApiException {
        ensureConsumer(false);
        bind();
    }

    private void bind() throws IOException, JetStreamApiException {
        close();
        JetStream js = connection.jetStream();
        subscription = js.subscribe(null, PullSubscribeOptions.builder().stream(stream).durable(durable).bind(true).build());
        try {
            // the server has the subscription before the first pull request
            connection.flush(Duration.ofSeconds(5));
        } catch (java.util.concurrent.TimeoutException e) {
            LOG.debug("flush after binding timed out: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void ensureConsumer(boolean starting) throws IOException, JetStreamApiException {
        JetStreamManagement jsm = connection.jetStreamManagement();
        ConsumerInfo existing = null;
        try {
            existing = jsm.getConsumerInfo(stream, durable);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() != CONSUMER_NOT_FOUND) {
                throw e;
            }
        }
        if (existing == null) {
            jsm.addOrUpdateConsumer(stream, config(DeliverPolicy.All, 0).build());
            LOG.info("created durable consumer {} on stream {} (filter {}, ack wait {})", durable, stream, filterSubject,
                    Env.format(ackWait));
        } else if (starting && existing.getNumAckPending() > 0) {
            long start = restartSequence(existing);
            LOG.warn("durable consumer {} has {} unacknowledged deliveries from a previous run; recreating it from stream sequence {}"
                    + " so they are redelivered now and in order", durable, existing.getNumAckPending(), start);
            jsm.deleteConsumer(stream, durable);
            jsm.addOrUpdateConsumer(stream, config(DeliverPolicy.ByStartSequence, start).build());
        } else {
            ConsumerConfiguration current = existing.getConsumerConfiguration();
            boolean same = ackWait.equals(current.getAckWait()) && current.getMaxAckPending() == MAX_ACK_PENDING
                    && filterSubject.equals(current.getFilterSubject());
            if (!same) {
                jsm.addOrUpdateConsumer(stream, ConsumerConfiguration.builder(current).ackWait(ackWait)
                        .maxAckPending(MAX_ACK_PENDING).filterSubject(filterSubject).build());
                LOG.info("updated durable consumer {} (filter {}, ack wait {})", durable, filterSubject, Env.format(ackWait));
            } else {
                LOG.info("resuming durable consumer {} on stream {}: {} messages pending", durable, stream, existing.getNumPending());
            }
        }
    }

    /**
     * Where a durable recreated after an unclean stop starts: right after its ack floor, but never
     * before the start sequence it was itself created with (a durable that acknowledged nothing yet
     * reports an ack floor of 0; starting from 1 would read everything again).
     */
    static long restartSequence(ConsumerInfo existing) {
        long afterFloor = existing.getAckFloor().getStreamSequence() + 1;
        ConsumerConfiguration current = existing.getConsumerConfiguration();
        long configuredStart = current.getDeliverPolicy() == DeliverPolicy.ByStartSequence ? current.getStartSequence() : 1;
        return Math.max(afterFloor, configuredStart);
    }

    private ConsumerConfiguration.Builder config(DeliverPolicy policy, long startSeq) {
        ConsumerConfiguration.Builder b = ConsumerConfiguration.builder()
                .durable(durable)
                .filterSubject(filterSubject)
                .ackPolicy(AckPolicy.Explicit)
                .ackWait(ackWait)
                .maxAckPending(MAX_ACK_PENDING)
                .maxDeliver(-1)
                .replayPolicy(ReplayPolicy.Instant)
                .deliverPolicy(policy);
        if (policy == DeliverPolicy.ByStartSequence) {
            b.startSequence(startSeq);
        }
        return b;
    }

    /**
     * Pulls up to {@code max} messages, returning as soon as {@code max} arrived or
     * {@code maxWait} passed. Status messages are left to jnats.
     */
    public List<RawMessage> fetch(int max, Duration maxWait) {
        List<Message> messages = subscription.fetch(max, maxWait);
        List<RawMessage> result = new ArrayList<>(messages.size());
        for (Message m : messages) {
            if (!m.isJetStream()) {
                continue;
            }
            result.add(new RawMessage(m.metaData().streamSequence(), m.getSubject(), m.getReplyTo(),
                    m.getData() == null ? new byte[0] : m.getData(), header(m.getHeaders(), REPLAY),
                    header(m.getHeaders(), PREV_COMMIT_LSN), m.metaData().pendingCount()));
        }
        return result;
    }

    /** The durable's ack floor (stream sequence): every message at or below it was acknowledged. */
    public long ackFloor() throws IOException, JetStreamApiException {
        return connection.jetStreamManagement().getConsumerInfo(stream, durable).getAckFloor().getStreamSequence();
    }

    /** Re-reads a message from the stream by sequence (for replaying or dead-lettering earlier chunks). */
    public InboundMessage load(long streamSeq) throws IOException, JetStreamApiException {
        return decode(raw(connection.jetStreamManagement().getMessage(stream, streamSeq)));
    }

    /**
     * The first message on {@code subject} at or after stream sequence {@code fromSeq}, or null
     * when there is none (for looking ahead in the stream). Thread-safe.
     */
    public InboundMessage next(String subject, long fromSeq) throws IOException, JetStreamApiException {
        MessageInfo info;
        try {
            info = connection.jetStreamManagement().getNextMessage(stream, fromSeq, subject);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == NO_MESSAGE_FOUND) {
                return null;
            }
            throw e;
        }
        return info == null || !info.isMessage() ? null : decode(raw(info));
    }

    private static RawMessage raw(MessageInfo info) {
        return new RawMessage(info.getSeq(), info.getSubject(), null, info.getData() == null ? new byte[0] : info.getData(),
                header(info.getHeaders(), REPLAY), header(info.getHeaders(), PREV_COMMIT_LSN), 0);
    }

    private static String header(Headers headers, String name) {
        return headers == null ? null : headers.getFirst(name);
    }

    /** Decodes the envelope, or records why it cannot be decoded. */
    public InboundMessage decode(RawMessage raw) {
        Lsn prev = prevCommitLsn(raw);
        try {
            Envelope envelope = readers.get().decode(raw.data());
            return new InboundMessage(raw.streamSeq(), raw.subject(), raw.replyTo(), raw.data(), envelope, null, raw.replayId(), prev,
                    raw.pendingAfter());
        } catch (EnvelopeFormatException e) {
            return new InboundMessage(raw.streamSeq(), raw.subject(), raw.replyTo(), raw.data(), null, e.getMessage(), raw.replayId(),
                    prev, raw.pendingAfter());
        } catch (RuntimeException e) {
            return new InboundMessage(raw.streamSeq(), raw.subject(), raw.replyTo(), raw.data(), null,
                    "cannot decode envelope: " + e, raw.replayId(), prev, raw.pendingAfter());
        }
    }

    /** The header's LSN; an unreadable one counts as absent (the message is applied as before such headers existed). */
    private static Lsn prevCommitLsn(RawMessage raw) {
        if (raw.prevCommitLsn() == null) {
            return null;
        }
        try {
            return Lsn.parse(raw.prevCommitLsn().trim());
        } catch (IllegalArgumentException e) {
            LOG.warn("stream sequence {}: unreadable {} header ignored", raw.streamSeq(), PREV_COMMIT_LSN);
            return null;
        }
    }

    /** Whether the NATS connection is connected now (jnats reconnects by itself). Thread-safe. */
    public boolean connected() {
        return connection.getStatus() == Connection.Status.CONNECTED;
    }

    public Connection.Status status() {
        return connection.getStatus();
    }

    public void close() {
        if (subscription != null) {
            try {
                subscription.unsubscribe();
            } catch (IllegalStateException e) {
                LOG.debug("subscription already closed: {}", e.getMessage());
            }
            subscription = null;
        }
    }
}
