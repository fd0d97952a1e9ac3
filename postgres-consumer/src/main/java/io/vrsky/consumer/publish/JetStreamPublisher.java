package io.vrsky.consumer.publish;

import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.ErrorListener;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PublishOptions;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.vrsky.consumer.ConsumerMetrics;
import io.vrsky.consumer.batch.MessageSink;
import io.vrsky.consumer.batch.OutgoingMessage;
import io.vrsky.consumer.readback.LeftInStream;
import io.vrsky.consumer.readback.SlotReadBack;
import io.vrsky.consumer.tx.DeadLetters;
import io.vrsky.consumer.tx.TxInfo;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.codec.EnvelopeWriter;
import io.vrsky.core.config.NatsSettings;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.nats.CdcHeaders;
import io.vrsky.core.nats.DeadLetterHeaders;
import io.vrsky.core.nats.DeadLetterPublisher.ErrorClass;
import io.vrsky.core.nats.DeadLetterPublisher.ErrorClass;
import io.vrsky.core.nats.JetStreamSetup;
import io.vrsky.core.nats.NatsConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Publishes messages to JetStream asynchronously, in commit order, and owns the positions their
 * acks make confirmable ({@link LsnTracker}, one per replication session). It never waits inside
 * {@link #publish}: the replication session asks {@link #hasRoom()} before it reads more and waits
 * with {@link #awaitRoom} / {@link #awaitAcks} for at most a given time, sending PostgreSQL its
 * status updates itself between those waits. The window ({@code maxInFlight} messages,
 * {@code maxInFlightBytes}) may be overrun by the few messages one pgoutput message produces.
 *
 * <p>Ordering under failure: the connection never reconnects by itself. A lost connection
 * closes it, which drops whatever was still queued, so the stream only ever holds a prefix of
 * what was sent; the replication loop then opens a new connection and re-reads from the last
 * confirmed position, and JetStream's duplicate window drops re-sent messages. (A client that
 * reconnected by itself would flush queued messages after the lost ones and leave a gap.) Once a
 * publish failed, nothing more is published on this connection: {@link #publish} and
 * {@link #deadLetter} throw until the loop disconnects and connects again.
 *
 * <p>Threads: the replication thread calls everything but {@link #healthy()} and
 * {@link #problem()}, which the health server's threads call. Acks complete on NATS threads and
 * only touch the in-flight window (under {@code lock}) and the session's {@link LsnTracker}.
 */
public final class JetStreamPublisher implements MessageSink, DeadLetters, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(JetStreamPublisher.class);
    /** Headers and envelope fields beyond the changes fit in this. */
    private static final long ENVELOPE_ROOM = 8 * 1024;
    /** JetStream's "could not store the message" API error; with "maximum ..." it means the stream reached a limit. */
    private static final int STREAM_STORE_FAILED = 10077;
    /** Until envelope-core names it: the commit LSN of the transaction published before this message's first. */
    static final String PREV_COMMIT_LSN = "Vrsky-Prev-Commit-Lsn";

    private final NatsSettings settings;
    private final String slot;
    private final EnvelopeWriter writer;
    private final Clock clock;
    private final ConsumerMetrics metrics;
    private final int maxInFlight;
    private final long maxInFlightBytes;
    private final Duration ackTimeout;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private int inFlight;
    private long inFlightBytes;
    /** Bumped by every disconnect, so late acks of a closed connection are ignored. */
    private long generation;

    private volatile Connection connection;
    private volatile JetStream jetStream;
    private volatile Throwable failure;
    /** Why the last session's publishing failed, kept across the reconnect until a publish succeeds again; null when none. */
    private volatile String lastProblem;
    private PublishOptions publishOptions;
    private LsnTracker tracker = new LsnTracker(Lsn.ZERO);

    public JetStreamPublisher(NatsSettings settings, String slot, String source, Clock clock, ConsumerMetrics metrics,
                              int maxInFlight, long maxInFlightBytes, Duration ackTimeout) {
        this.settings = settings;
        this.slot = slot;
        this.writer = new EnvelopeWriter(source);
        this.clock = clock;
        this.metrics = metrics;
        this.maxInFlight = maxInFlight;
        this.maxInFlightBytes = maxInFlightBytes;
        this.ackTimeout = ackTimeout;
    }

    /** Connects (once; no automatic reconnect) and makes sure the CDC and DLQ streams exist. */
    public void connect() throws IOException, InterruptedException, JetStreamApiException {
        disconnect();
        Connection c = Nats.connect(options());
        try {
            JetStreamSetup.provision(c, settings, settings.subject());
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
        JetStream js = c.jetStream();
        this.publishOptions = PublishOptions.builder().expectedStream(settings.stream()).build();
        this.jetStream = js;
        this.failure = null;
        this.connection = c;
        LOG.info("connected to NATS {}, publishing to {} in stream {}", NatsSettings.redact(c.getConnectedUrl()), settings.subject(), settings.stream());
    }

    private Options options() throws IOException {
        Options.Builder b = new Options.Builder()
                .servers(settings.url().split(","))
                .connectionName("postgres-consumer/" + slot)
                .maxReconnects(0)
                .connectionTimeout(Duration.ofSeconds(5))
                .pingInterval(Duration.ofSeconds(5))
                .requestCleanupInterval(ackTimeout)
                .connectionListener((conn, event) -> {
                    if (event == ConnectionListener.Events.DISCONNECTED || event == ConnectionListener.Events.CLOSED) {
                        LOG.debug("NATS connection event {}", event);
                    }
                })
                .errorListener(new ErrorListener() {
                    @Override
                    public void errorOccurred(Connection conn, String error) {
                        LOG.warn("NATS error: {}", error);
                    }

                    @Override
                    public void exceptionOccurred(Connection conn, Exception exp) {
                        LOG.debug("NATS exception: {}", exp.toString());
                    }
                });
        try {
            return NatsConnector.applySecurity(b, settings).build();
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up NATS TLS: " + e.getMessage(), e);
        }
    }

    /** Whether the connection is up and no publish has failed. */
    public boolean healthy() {
        Connection c = connection;
        return c != null && c.getStatus() == Connection.Status.CONNECTED && failure == null;
    }

    public Optional<String> problem() {
        String last = lastProblem;
        if (last != null) {
            return Optional.of(last);
        }
        Connection c = connection;
        if (c == null) {
            return Optional.of("not connected to NATS");
        }
        if (c.getStatus() != Connection.Status.CONNECTED) {
            return Optional.of("NATS connection is " + c.getStatus());
        }
        Throwable f = failure;
        return f == null ? Optional.empty() : Optional.of("publish failed: " + f);
    }

    /** The most change bytes one message may carry on this server. */
    public long maxChangeBytes() {
        long reported = connection.getServerInfo().getMaxPayload();
        long max = reported <= 0 ? 1024 * 1024 : reported;
        return max - Math.min(ENVELOPE_ROOM, max / 4);
    }

    /** What this slot's earlier sessions left in the stream, for a session resuming from {@code confirmed}. */
    public LeftInStream readBack(Lsn confirmed) throws IOException, JetStreamApiException {
        return readBackOf().read(confirmed);
    }

    /**
     * Whether the stream holds messages this slot published.
     *
     * @throws PublishFailedException when the stream cannot be read
     */
    public boolean slotHasPublished() {
        try {
            return readBackOf().hasMessages();
        } catch (IOException | JetStreamApiException e) {
            throw new PublishFailedException("cannot read stream " + settings.stream() + " back: " + e.getMessage(), e);
        }
    }

    private SlotReadBack readBackOf() {
        Connection c = connection;
        if (c == null) {
            throw new PublishFailedException("not connected to NATS", null);
        }
        try {
            return new SlotReadBack(c.jetStreamManagement(), settings.stream(), settings.subject(), slot, new EnvelopeCodec());
        } catch (IOException e) {
            throw new PublishFailedException("cannot read stream " + settings.stream() + " back: " + e.getMessage(), e);
        }
    }

    /**
     * Why publishing failed, in words for readiness and the log: a stream that refuses new messages
     * because it is full says so, with its name and limits (kept for {@link #problem()} until a
     * publish succeeds again); anything else is {@code e}'s message. Call before
     * {@link #disconnect()}: the stream's limits are read on the connection.
     */
    public String describeFailure(Throwable e) {
        if (!streamFull(e)) {
            return e.getMessage();
        }
        String why = fullStream();
        lastProblem = why;
        return why;
    }

    /** Whether JetStream refused a message because the stream reached one of its limits (discard new). */
    public static boolean streamFull(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof JetStreamApiException api && api.getApiErrorCode() == STREAM_STORE_FAILED
                    && api.getErrorDescription() != null && api.getErrorDescription().contains("maximum")) {
                return true;
            }
        }
        return false;
    }

    private String fullStream() {
        String limits = "";
        Connection c = connection;
        if (c != null) {
            try {
                StreamConfiguration sc = c.jetStreamManagement().getStreamInfo(settings.stream()).getConfiguration();
                List<String> parts = new ArrayList<>();
                if (sc.getMaxMsgs() > 0) {
                    parts.add("max_msgs " + sc.getMaxMsgs());
                }
                if (sc.getMaxBytes() > 0) {
                    parts.add("max_bytes " + sc.getMaxBytes());
                }
                if (sc.getMaxMsgsPerSubject() > 0) {
                    parts.add("max_msgs_per_subject " + sc.getMaxMsgsPerSubject());
                }
                parts.add("discard " + sc.getDiscardPolicy().toString().toLowerCase(Locale.ROOT));
                limits = " (" + String.join(", ", parts) + ")";
            } catch (IOException | JetStreamApiException | RuntimeException ex) {
                LOG.debug("cannot read the limits of stream {}: {}", settings.stream(), ex.toString());
            }
        }
        return "stream " + settings.stream() + " is full" + limits + ": JetStream refuses new messages until it has room"
                + " (the producer has read and older messages were removed, or the limits are raised)";
    }

    /**
     * A new replication session that resumes from {@code start} (the slot's confirmed position):
     * from now on acks make positions of this session confirmable. Acks of an earlier session's
     * messages still in flight count for the in-flight window only.
     */
    public void startSession(Lsn start) {
        this.tracker = new LsnTracker(start);
    }

    /** The highest position this session may confirm to PostgreSQL: every message up to it is acknowledged. */
    public Lsn confirmable() {
        return tracker.confirmable();
    }

    /** @throws PublishFailedException when a publish failed or the connection is gone */
    public void checkHealthy() {
        Throwable f = failure;
        if (f != null) {
            throw new PublishFailedException("publishing to JetStream failed: " + f, f);
        }
        Connection c = connection;
        if (c == null || c.getStatus() != Connection.Status.CONNECTED) {
            throw new PublishFailedException("NATS connection is " + (c == null ? "not open" : c.getStatus()), null);
        }
    }

    /**
     * Hands {@code m} to JetStream without waiting for its ack or for room in the window.
     *
     * @throws PublishFailedException when an earlier publish failed or the connection is gone
     */
    @Override
    public void publish(OutgoingMessage m) {
        NatsMessage message = toNatsMessage(m);
        String msgId = message.getHeaders().getFirst(CdcHeaders.MSG_ID);
        int size = message.getData().length;
        long gen = acquire(size);
        LsnTracker sessionTracker = tracker;
        long seq = sessionTracker.register(m.confirmLsn());
        long start = System.nanoTime();
        OutgoingMessage.Counted counted = m.counted(); // the callback must not keep the changes alive until the ack
        CompletableFuture<PublishAck> future;
        try {
            future = jetStream.publishAsync(message, publishOptions);
        } catch (RuntimeException e) {
            release(size, e, gen);
            throw new PublishFailedException("cannot publish " + msgId + ": " + e.getMessage(), e);
        }
        future.orTimeout(ackTimeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((ack, error) -> {
            if (error == null) {
                lastProblem = null;
                try {
                    metrics.acknowledged(counted, System.nanoTime() - start, ack.isDuplicate());
                } finally { // the slot and the confirm position must not depend on the metrics
                    sessionTracker.ack(seq);
                    release(size, null, gen);
                }
            } else {
                release(size, error, gen);
            }
        });
        if (LOG.isDebugEnabled()) {
            LOG.debug("published {} ({} change(s), {} transaction(s), {} bytes)", msgId, m.changes().size(), m.transactionCount(), size);
        }
    }

    /** The NATS message of {@code m}: the envelope as body, the CDC headers and {@code Nats-Msg-Id}. */
    NatsMessage toNatsMessage(OutgoingMessage m) {
        String msgId = m.messageId(slot);
        byte[] body = writer.write(m.metadata(), m.changes(), msgId, clock.instant());
        Headers headers = new Headers();
        headers.put(CdcHeaders.MSG_ID, msgId);
        headers.put(CdcHeaders.COMMIT_LSN, m.lastTx().commitLsn().toString());
        headers.put(CdcHeaders.TX_ID, Long.toString(m.lastTx().txId()));
        headers.put(CdcHeaders.CHUNK, Integer.toString(m.chunk()));
        headers.put(CdcHeaders.LAST_CHUNK, m.lastChunk() ? "true" : "false");
        if (m.prevCommitLsn() != null) {
            headers.put(PREV_COMMIT_LSN, m.prevCommitLsn().toString());
        }
        return NatsMessage.builder().subject(settings.subject()).headers(headers).data(body).build();
    }

    @Override
    public void passThrough(Lsn endLsn) {
        tracker.passThrough(endLsn);
    }

    /**
     * Sends a dead letter (class {@code decode}) and waits for its ack. Its {@code Nats-Msg-Id}
     * {@code <slot>:dlq:<commit lsn>:<index>} makes a re-send, when the transaction is read again
     * after a restart, a duplicate JetStream drops.
     *
     * @throws PublishFailedException when it cannot be stored (the session ends)
     */
    @Override
    public void deadLetter(byte[] body, String error, TxInfo tx, int index) {
        checkHealthy();
        String msgId = slot + ":dlq:" + tx.commitLsn() + ":" + index;
        try {
            Headers headers = new Headers();
            headers.put(CdcHeaders.MSG_ID, msgId);
            headers.put(DeadLetterHeaders.ERROR, headerValue(error));
            headers.put(DeadLetterHeaders.ERROR_CLASS, ErrorClass.DECODE.header());
            headers.put(DeadLetterHeaders.SOURCE_SUBJECT, headerValue(settings.subject()));
            headers.put("Vrsky-Tx-Id", Long.toString(tx.txId()));
            headers.put(CdcHeaders.COMMIT_LSN, tx.commitLsn().toString());
            PublishAck ack = jetStream.publish(NatsMessage.builder().subject(settings.dlqSubject()).headers(headers).data(body).build());
            if (!ack.isDuplicate()) {
                metrics.deadLettered();
            }
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            failure = e;
            throw new PublishFailedException("cannot publish dead letter " + msgId + ": " + e.getMessage(), e);
        }
    }

    /** A valid NATS header value: printable ASCII, other characters as a backslash, u and four hex digits, at most 2,000 characters. */
    private static String headerValue(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (int i = 0; i < text.length() && b.length() < 2000; i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7F) {
                b.append(' ');
            } else if (c > 0x7E) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString().trim();
    }

    private long acquire(int size) {
        lock.lock();
        try {
            checkHealthy();
            inFlight++;
            inFlightBytes += size;
            return generation;
        } finally {
            lock.unlock();
        }
    }

    /** Whether the window has room for more messages. */
    public boolean hasRoom() {
        lock.lock();
        try {
            return roomLocked();
        } finally {
            lock.unlock();
        }
    }

    private boolean roomLocked() {
        return inFlight < maxInFlight && (inFlight == 0 || inFlightBytes < maxInFlightBytes);
    }

    /**
     * Waits at most {@code timeout} for room in the window.
     *
     * @return whether there is room now
     * @throws PublishFailedException when a publish failed or the connection is gone
     */
    public boolean awaitRoom(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (!roomLocked()) {
                checkHealthy();
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                changed.awaitNanos(left);
            }
            checkHealthy();
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void release(int size, Throwable error, long gen) {
        lock.lock();
        try {
            if (gen != generation) {
                return;
            }
            inFlight--;
            inFlightBytes -= size;
            if (error != null && failure == null) {
                failure = error;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits at most {@code timeout} until every message in flight is acknowledged.
     *
     * @return false when {@code timeout} passed first
     * @throws PublishFailedException when a publish failed or the connection is gone
     */
    public boolean awaitAcks(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (inFlight > 0) {
                checkHealthy();
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                changed.awaitNanos(left);
            }
            checkHealthy();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Closes the connection, dropping anything still queued; in-flight acks fail. */
    public void disconnect() throws InterruptedException {
        Connection c = connection;
        connection = null;
        if (c != null) {
            c.close();
        }
        lock.lock();
        try {
            generation++;
            inFlight = 0;
            inFlightBytes = 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        try {
            disconnect();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
