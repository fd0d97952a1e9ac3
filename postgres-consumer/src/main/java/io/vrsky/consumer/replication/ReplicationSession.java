package io.vrsky.consumer.replication;

import io.vrsky.consumer.ConsumerConfig;
import io.vrsky.consumer.ConsumerMetrics;
import io.vrsky.consumer.batch.MessageBatcher;
import io.vrsky.consumer.encode.ChangeEncoder;
import io.vrsky.consumer.encode.RelationCache;
import io.vrsky.consumer.encode.TypeRegistry;
import io.vrsky.consumer.encode.ValueDecoder;
import io.vrsky.consumer.filter.OperationFilter;
import io.vrsky.consumer.filter.TableFilter;
import io.vrsky.consumer.pgoutput.PgOutputDecoder;
import io.vrsky.consumer.publish.JetStreamPublisher;
import io.vrsky.consumer.publish.PublishFailedException;
import io.vrsky.consumer.readback.LeftInStream;
import io.vrsky.consumer.snapshot.SessionHooks;
import io.vrsky.consumer.snapshot.Snapshots;
import io.vrsky.consumer.tx.TransactionAssembler;
import io.vrsky.core.model.Lsn;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * One replication session: opens the replication connection and its stream from the slot's
 * confirmed position, reads pgoutput, hands it through decoding, assembly and batching to the
 * publisher, confirms what JetStream acknowledged, and drains on a stop request. Any failure ends
 * the session with an exception; the {@link ReplicationLoop} decides what comes next.
 *
 * <p>Confirmation rule: the flush LSN sent to PostgreSQL is the publisher's
 * {@link JetStreamPublisher#confirmable() confirmable} position, the end LSN of the last
 * transaction whose messages, and all before them, JetStream acknowledged (when nothing is held,
 * the server's WAL end passes through behind them, so an idle slot advances). The stream is built
 * with {@code withAutomaticFlush(false)} so PgJDBC never confirms anything by itself (pgjdbc #3138).
 *
 * <p>Waiting: the publisher never blocks. When its window is full, or while acks are awaited
 * (previous session's messages, drain), the session waits on it in short steps and between them
 * confirms and sends the server a status update, so the walsender does not time it out.
 * ({@code readPending} sends status updates by itself while the stream is read.)
 *
 * <p>Threads: the replication thread calls everything but {@link #confirmed()}, which any thread
 * may read.
 */
final class ReplicationSession implements AutoCloseable, SessionHooks {

    private static final Logger LOG = LoggerFactory.getLogger(ReplicationSession.class);
    /**
     * How long the session sleeps when the socket has nothing (PgJDBC has no blocking read that
     * returns on a timeout, so an idle stream is polled). Shorter, growing waits were tried and
     * were slower during catch-up on two cores (ThroughputIT, medians of one run): each wake-up costs CPU the
     * walsender and NATS need, and a reader that drains the socket in small bites makes the
     * walsender send in small bites too, while the kernel's socket buffer holds what arrives
     * during the sleep.
     */
    private static final Duration IDLE_POLL = Duration.ofMillis(5);
    static final Duration STATUS_INTERVAL = Duration.ofSeconds(1);
    /** How long one wait on the publisher lasts before the session confirms what was acknowledged meanwhile. */
    private static final Duration WAIT_STEP = Duration.ofMillis(200);
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);

    private final Connection connection;
    private final ConsumerConfig config;
    private final Snapshots snapshots;
    /** The slot this session created with an exported snapshot (the initial snapshot); null when it existed. */
    private final Exported exported;
    private PGReplicationStream stream;
    private final JetStreamPublisher publisher;
    private final ConsumerMetrics metrics;
    private final StopSignal stop;
    private final TransactionAssembler assembler;
    private final MessageBatcher batcher;
    private long lastStatus = System.nanoTime();
    private volatile Lsn confirmed = Lsn.ZERO;

    private ReplicationSession(ConsumerConfig config, Connection connection, PGReplicationStream stream, Exported exported,
                               JetStreamPublisher publisher, ConsumerMetrics metrics, Clock clock, StopSignal stop, CatalogQueries catalog,
                               TypeRegistry types, Snapshots snapshots) {
        this.connection = connection;
        this.config = config;
        this.snapshots = snapshots;
        this.exported = exported;
        this.stream = stream;
        this.publisher = publisher;
        this.metrics = metrics;
        this.stop = stop;
        long maxChangeBytes = publisher.maxChangeBytes();
        this.batcher = new MessageBatcher(config.batchSize(), config.batchTimeout(), maxChangeBytes, clock, publisher);
        this.assembler = new TransactionAssembler(new PgOutputDecoder(), new RelationCache(types, catalog, new ValueDecoder()),
                new TableFilter(config.tables()), new OperationFilter(config.operations()), new ChangeEncoder(new ValueDecoder(), config.compactEnvelopes()),
                maxChangeBytes, batcher, publisher);
        this.assembler.observe(snapshots);
    }

    /**
     * Opens the replication connection and starts streaming from the slot's confirmed position.
     *
     * @throws SQLException when PostgreSQL cannot be reached, refuses the login, or the slot is in
     *                      use by another instance (SQLState 55006)
     */
    static ReplicationSession open(ConsumerConfig config, JetStreamPublisher publisher, ConsumerMetrics metrics, Clock clock,
                                   StopSignal stop, CatalogQueries catalog, TypeRegistry types, Snapshots snapshots, boolean createSlot)
            throws SQLException {
        Properties props = new Properties();
        PGProperty.USER.set(props, config.user());
        PGProperty.PASSWORD.set(props, config.password());
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
        PGProperty.REPLICATION.set(props, "database");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        PGProperty.SSL_MODE.set(props, config.sslMode().jdbcValue());
        PGProperty.APPLICATION_NAME.set(props, "vrsky-postgres-consumer");
        PGProperty.CONNECT_TIMEOUT.set(props, 10);
        PGProperty.TCP_KEEP_ALIVE.set(props, true);
        PGProperty.LOG_SERVER_ERROR_DETAIL.set(props, false); // a Detail: line may quote row values; errors are logged
        Connection connection = new org.postgresql.Driver().connect(config.jdbcUrl(), props);
        if (connection == null) {
            throw new SQLException("PgJDBC did not accept " + config.jdbcUrl(), "08001");
        }
        try {
            holdSlotLock(connection, config.slot());
            if (createSlot) {
                Exported exported = createSlot(connection, config.slot());
                return new ReplicationSession(config, connection, null, exported, publisher, metrics, clock, stop, catalog, types,
                        snapshots);
            }
            return new ReplicationSession(config, connection, startStream(connection, config), null, publisher, metrics, clock, stop,
                    catalog, types, snapshots);
        } catch (SQLException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /**
     * Takes the slot's session advisory lock on this replication connection, held until it closes.
     * PostgreSQL marks a slot active only while a walsender streams from it: after
     * {@code CREATE_REPLICATION_SLOT} it is free again while the initial snapshot copies, and a
     * second instance could start streaming from it then. Every instance takes this lock before it
     * creates the slot or streams from it, so the second one waits on standby (SQLState 55006, as
     * for an active slot) during the copy too. The lock goes with the connection, also when the
     * process dies. Advisory locks need no privilege.
     *
     * @throws SQLException SQLState 55006 when another instance holds the lock
     */
    private static void holdSlotLock(Connection connection, String slot) throws SQLException {
        try (java.sql.Statement s = connection.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SELECT pg_try_advisory_lock(" + slotLockKey(slot) + ")")) {
            if (!rs.next() || !rs.getBoolean(1)) {
                throw new SQLException("another session holds advisory lock " + slotLockKey(slot) + " of slot " + slot, "55006");
            }
        }
    }

    /** The advisory lock key of a slot: a fixed 64-bit FNV-1a hash of {@code vrsky-slot:<name>}, the same in every instance. */
    static long slotLockKey(String slot) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : ("vrsky-slot:" + slot).getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= 0x100000001b3L;
        }
        return hash;
    }

    /**
     * Creates the slot on this replication connection with an exported snapshot: the snapshot stays
     * valid while the connection runs no other command, so the initial snapshot copies under it
     * and streaming then starts from the slot's consistent point on the same connection: nothing
     * twice, nothing missing.
     */
    private static Exported createSlot(Connection connection, String slot) throws SQLException {
        String sql = "CREATE_REPLICATION_SLOT " + slot + " LOGICAL pgoutput "
                + (minimumVersion(connection, 150000) ? "(SNAPSHOT 'export')" : "EXPORT_SNAPSHOT");
        try (java.sql.Statement s = connection.createStatement(); java.sql.ResultSet rs = s.executeQuery(sql)) {
            if (!rs.next()) {
                throw new SQLException("CREATE_REPLICATION_SLOT returned no row", "XX000");
            }
            Exported exported = new Exported(rs.getString(1), Lsn.parse(rs.getString(2)), rs.getString(3));
            LOG.info("created replication slot {} at LSN {} with exported snapshot {}", slot, exported.consistentPoint(),
                    exported.snapshotName());
            return exported;
        }
    }

    private static boolean minimumVersion(Connection connection, int version) throws SQLException {
        return connection.unwrap(org.postgresql.core.BaseConnection.class).haveMinimumServerVersion(version);
    }

    private static PGReplicationStream startStream(Connection connection, ConsumerConfig config) throws SQLException {
        var builder = connection.unwrap(PGConnection.class).getReplicationAPI()
                .replicationStream()
                .logical()
                .withSlotName(config.slot())
                .withSlotOption("proto_version", 1)
                .withSlotOption("publication_names", config.publication())
                .withStatusInterval((int) STATUS_INTERVAL.toMillis(), TimeUnit.MILLISECONDS)
                .withAutomaticFlush(false);
        if (minimumVersion(connection, 140000)) {
            builder = builder.withSlotOption("messages", true); // the snapshot's watermarks (pg_logical_emit_message)
        }
        return builder.start();
    }

    /** Where this session's slot starts when the session created it; null when the slot existed. */
    Lsn createdAt() {
        return exported == null ? null : exported.consistentPoint();
    }

    /**
     * Streams until a stop is requested (then drains and returns) or something fails (throws).
     *
     * @param start the slot's confirmed position, where the server resumes
     */
    void run(Lsn start) throws Exception {
        publisher.startSession(start);
        confirmed = start;
        metrics.confirmed(start);
        // the previous session's messages must all be stored before its newest one is looked at
        if (!awaitAcks(DRAIN_TIMEOUT)) {
            throw new PublishFailedException("JetStream did not acknowledge the previous session's messages within "
                    + DRAIN_TIMEOUT.toSeconds() + " s", null);
        }
        LeftInStream left = publisher.readBack(start);
        left.unfinished().ifPresent(published -> LOG.info("the transaction committed at {} was left half published ({} chunk(s),"
                + " {} change(s)); it goes on after them when read again", published.commitLsn(), published.sizes().size(),
                published.changes()));
        LOG.debug("this slot's stream holds messages up to commit LSN {}; the first one sent now follows commit LSN {}",
                left.newestCommitLsn(), left.prevCommitLsn());
        batcher.resume(left);
        snapshots.sessionStarting(this, exported, publisher.maxChangeBytes());
        if (stream == null) {
            if (stop.requested()) {
                return; // stopped during the initial snapshot: what was copied is recorded, streaming starts next time
            }
            stream = startStream(connection, config);
        }
        long received = 0;
        try {
            while (true) {
                if (stop.requested()) {
                    drain();
                    return;
                }
                publisher.checkHealthy();
                if (!publisher.hasRoom()) {
                    awaitRoom();
                    continue;
                }
                snapshots.poll();
                ByteBuffer buffer = stream.readPending();
                if (buffer != null) {
                    assembler.accept(buffer, new Lsn(stream.getLastReceiveLSN().asLong()));
                    batcher.flushIfDue();
                    if ((++received & 1023) == 0) {
                        confirm();
                    }
                } else {
                    batcher.idle(new Lsn(stream.getLastReceiveLSN().asLong()));
                    confirm();
                    stop.await(IDLE_POLL);
                }
            }
        } finally {
            assembler.reset();
            snapshots.sessionEnded();
        }
    }

    @Override
    public void flushPending() throws InterruptedException {
        batcher.flush();
    }

    @Override
    public void keepAlive() throws SQLException {
        if (stream != null) {
            keepAliveStreaming();
        }
    }

    @Override
    public boolean stopRequested() {
        return stop.requested();
    }

    /** Waits until the publisher's window has room (or a stop is requested), confirming and keeping the stream alive meanwhile. */
    private void awaitRoom() throws InterruptedException, SQLException {
        while (!publisher.awaitRoom(WAIT_STEP)) {
            keepAliveStreaming();
            if (stop.requested()) {
                return;
            }
        }
    }

    /** Waits at most {@code timeout} for every ack, confirming and keeping the stream alive meanwhile. */
    private boolean awaitAcks(Duration timeout) throws InterruptedException, SQLException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (publisher.awaitAcks(Duration.ofNanos(Math.max(0, Math.min(left, WAIT_STEP.toNanos()))))) {
                return true;
            }
            if (left <= 0) {
                return false;
            }
            keepAlive();
        }
    }

    /** Confirms what was acknowledged and sends a status update when the last one is a status interval old. */
    private void keepAliveStreaming() throws SQLException {
        confirm();
        long now = System.nanoTime();
        if (now - lastStatus >= STATUS_INTERVAL.toNanos()) {
            stream.forceUpdateStatus();
            lastStatus = now;
        }
    }

    private void confirm() {
        metrics.received(new Lsn(stream.getLastReceiveLSN().asLong()));
        Lsn c = publisher.confirmable();
        if (c.isAfter(confirmed)) {
            LogSequenceNumber lsn = LogSequenceNumber.valueOf(c.value());
            stream.setFlushedLSN(lsn);
            stream.setAppliedLSN(lsn);
            confirmed = c;
            metrics.confirmed(c);
            LOG.debug("confirmed LSN {}", c);
        }
    }

    private void drain() throws Exception {
        if (stream == null) {
            return;
        }
        LOG.info("draining: publishing what was read and waiting for JetStream's acks");
        batcher.abortTransaction();
        batcher.flush();
        boolean acked = awaitAcks(DRAIN_TIMEOUT);
        confirm();
        stream.forceUpdateStatus();
        if (!acked) {
            throw new PublishFailedException("JetStream did not acknowledge everything within " + DRAIN_TIMEOUT.toSeconds() + " s", null);
        }
        LOG.info("drained; confirmed LSN {}", confirmed);
    }

    /** The last position confirmed to PostgreSQL in this session. */
    Lsn confirmed() {
        return confirmed;
    }

    @Override
    public void close() throws SQLException {
        try {
            if (stream != null && !stream.isClosed()) {
                stream.close();
            }
        } finally {
            connection.close();
        }
    }
}
