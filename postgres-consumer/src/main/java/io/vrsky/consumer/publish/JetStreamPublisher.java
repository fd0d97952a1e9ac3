package io.vrsky.consumer.publish;

import io.nats.client.Connection;
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
import io.vrsky.consumer.snapshot.SnapshotMessage;
import io.vrsky.consumer.tx.DeadLetters;
import io.vrsky.consumer.tx.TxInfo;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.codec.EnvelopeWriter;
import io.vrsky.core.config.NatsSettings;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;
import io.vrsky.core.nats.CdcHeaders;
import io.vrsky.core.nats.DeadLetterPublisher;
import io.vrsky.core.nats.DeadLetterPublisher.DeadLetter;
import io.vrsky.core.nats.DeadLetterPublisher.ErrorClass;
import io.vrsky.core.nats.JetStreamErrors;
import io.vrsky.core.nats.NatsOptions;
import io.vrsky.core.nats.JetStreamSetup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

    private final NatsSettings settings;
    private final String slot;
    private final EnvelopeWriter writer;
    private final boolean compact;
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
    private volatile DeadLetterPublisher deadLetters;
    private volatile Throwable failure;
    /** Why the last session's publishing failed, kept across the reconnect until a publish succeeds again; null when none. */
    private volatile String lastProblem;
    private PublishOptions publishOptions;
    private LsnTracker tracker = new LsnTracker(Lsn.ZERO);

    public JetStreamPublisher(NatsSettings settings, String slot, String source, Clock clock, ConsumerMetrics metrics,
                              int maxInFlight, long maxInFlightBytes, Duration ackTimeout) {
        this(settings, slot, source, clock, metrics, maxInFlight, maxInFlightBytes, ackTimeout, false);
    }

    /**
     * @param compact write messages in the compact layout ({@code Vrsky-Format: compact}); the
     *                changes handed to it must be encoded for it
     */
    public JetStreamPublisher(NatsSettings settings, String slot, String source, Clock clock, ConsumerMetrics metrics,
                              int maxInFlight, long maxInFlightBytes, Duration ackTimeout, boolean compact) {
        this.compact = compact;
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
        this.deadLetters = new DeadLetterPublisher(js, settings.dlqSubject());
        this.failure = null;
        this.connection = c;
        LOG.info("connected to NATS {}, publishing to {} in stream {}", NatsSettings.redact(c.getConnectedUrl()), settings.subject(), settings.stream());
    }

    /**
     * The services' base options ({@link NatsOptions#base}: servers, credentials, TLS, events) with
     * reconnecting turned off (see the class comment) and requests cleaned up after the ack timeout.
     */
    private Options options() throws IOException {
        Options base = NatsOptions.base(settings, "postgres-consumer/" + slot);
        return new Options.Builder(base).maxReconnects(0).requestCleanupInterval(ackTimeout).build();
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
        if (!JetStreamErrors.isStreamFull(e)) {
            return e.getMessage();
        }
        StreamConfiguration config = null;
        Connection c = connection;
        if (c != null) {
            try {
                config = c.jetStreamManagement().getStreamInfo(settings.stream()).getConfiguration();
            } catch (IOException | JetStreamApiException | RuntimeException ex) {
                LOG.debug("cannot read the limits of stream {}: {}", settings.stream(), ex.toString());
            }
        }
        String why = JetStreamErrors.fullStreamProblem(settings.stream(), config, e).orElse(e.getMessage())
                + "; JetStream refuses new messages until it has room (messages removed, or the limits raised)";
        lastProblem = why;
        return why;
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

    /**
     * Hands a message of snapshot rows to JetStream like {@link #publish}; it holds back the
     * positions registered after it until acknowledged, confirms none itself, and is outside the
     * chain of CDC transactions (no commit LSN, chunk or previous-commit headers). {@code onAck}
     * runs on a NATS thread once JetStream acknowledged it (it must not block).
     *
     * @throws PublishFailedException when an earlier publish failed or the connection is gone
     */
    public void publishSnapshot(SnapshotMessage m, Runnable onAck) {
        String msgId = m.messageId(slot);
        byte[] body = m.tableEntry() == null || m.transactionEntry() == null ? writer.write(m.metadata(), m.changes(), msgId, clock.instant())
                : writer.writeCompact(m.metadata(), List.of(m.tableEntry()), List.of(m.transactionEntry()), m.changes(), msgId,
                        clock.instant());
        Headers headers = new Headers();
        headers.put(CdcHeaders.MSG_ID, msgId);
        if (m.tableEntry() != null && m.transactionEntry() != null) {
            headers.put(CdcHeaders.FORMAT, EnvelopeWriter.COMPACT);
        }
        headers.put(CdcHeaders.SNAPSHOT, m.header());
        headers.put(CdcHeaders.LAST_CHUNK, m.lastChunk() ? "true" : "false");
        NatsMessage message = NatsMessage.builder().subject(settings.subject()).headers(headers).data(body).build();
        int size = body.length;
        long gen = acquire(size);
        LsnTracker sessionTracker = tracker;
        long seq = sessionTracker.register(null);
        long start = System.nanoTime();
        OutgoingMessage.Counted counted = new OutgoingMessage.Counted(false, 0,
                java.util.Map.of(new io.vrsky.consumer.batch.TableOp(m.table(), Operation.READ), m.changes().size()), null);
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
                    onAck.run();
                } finally {
                    sessionTracker.ack(seq);
                    release(size, null, gen);
                }
            } else {
                release(size, error, gen);
            }
        });
        if (LOG.isDebugEnabled()) {
            LOG.debug("published {} ({} snapshot row(s), {} bytes)", msgId, m.changes().size(), size);
        }
    }

    /** The NATS connection (the snapshot progress bucket lives there); null while disconnected. */
    public Connection connection() {
        return connection;
    }

    /** The NATS message of {@code m}: the envelope as body, the CDC headers and {@code Nats-Msg-Id}. */
    NatsMessage toNatsMessage(OutgoingMessage m) {
        String msgId = m.messageId(slot);
        byte[] body;
        if (compact) {
            List<byte[]> transactions = new ArrayList<>(m.transactions().size());
            for (TxInfo tx : m.transactions()) {
                transactions.add(EnvelopeWriter.transactionEntry(tx.txId(), tx.commitLsn(), tx.commitTime()));
            }
            body = writer.writeCompact(m.metadata(), m.tables(), transactions, m.changes(), msgId, clock.instant());
        } else {
            body = writer.write(m.metadata(), m.changes(), msgId, clock.instant());
        }
        Headers headers = new Headers();
        headers.put(CdcHeaders.MSG_ID, msgId);
        if (compact) {
            headers.put(CdcHeaders.FORMAT, EnvelopeWriter.COMPACT);
        }
        headers.put(CdcHeaders.COMMIT_LSN, m.lastTx().commitLsn().toString());
        headers.put(CdcHeaders.TX_ID, Long.toString(m.lastTx().txId()));
        headers.put(CdcHeaders.CHUNK, Integer.toString(m.chunk()));
        headers.put(CdcHeaders.LAST_CHUNK, m.lastChunk() ? "true" : "false");
        if (m.prevCommitLsn() != null) {
            headers.put(CdcHeaders.PREV_COMMIT_LSN, m.prevCommitLsn().toString());
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
            deadLetters.publish(new DeadLetter(body, error, ErrorClass.DECODE, null, settings.subject(), null)
                    .withMsgId(msgId).withTransaction(tx.txId(), tx.commitLsn()));
            metrics.deadLettered();
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            failure = e;
            throw new PublishFailedException("cannot publish dead letter " + msgId + ": " + e.getMessage(), e);
        }
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
