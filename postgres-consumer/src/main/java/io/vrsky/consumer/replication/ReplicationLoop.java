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
import io.vrsky.consumer.tx.ProtocolException;
import io.vrsky.consumer.tx.TransactionAssembler;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.retry.Backoff;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

/**
 * The replication thread: owns the PGReplicationStream (read, status updates, LSN setters) and
 * drives decode, assembly, batching and publishing on it. One session = one replication
 * connection; any failure ends the session, and the next one resumes from the slot's confirmed
 * position after an exponential backoff. A slot held by another instance (SQLState 55006) puts
 * this instance on standby until the slot is free.
 *
 * <p>Confirmation rule: the flush LSN sent to PostgreSQL is {@link LsnTracker#confirmable()},
 * the end LSN of the last transaction whose messages, and all before them, JetStream
 * acknowledged. When nothing is held or in flight, the server's WAL end (keepalives) is
 * confirmable too, so an idle slot advances. The stream is built with
 * {@code withAutomaticFlush(false)} so PgJDBC never confirms anything by itself (pgjdbc #3138).
 */
public final class ReplicationLoop implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(ReplicationLoop.class);
    private static final String OBJECT_IN_USE = "55006";
    /**
     * How long the loop sleeps when the socket has nothing (PgJDBC has no blocking read that returns
     * on a timeout, so an idle stream is polled). Shorter first waits (50 us to 1 ms, doubling) were
     * measured slower during catch-up on a 2-core machine: each wake-up costs CPU the walsender and
     * NATS need, and a reader that drains the socket in small bites makes the walsender send in
     * small bites too, while the socket buffer (auto-tuned by the kernel) holds what arrives
     * during the sleep.
     */
    private static final Duration IDLE_POLL = Duration.ofMillis(5);
    private static final Duration STATUS_INTERVAL = Duration.ofSeconds(1);
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);
    /** A session that lasted this long counts as healthy: the backoff starts over. */
    private static final Duration HEALTHY_SESSION = Duration.ofSeconds(30);

    /** What the loop is doing, for /health/ready. */
    public enum State { STARTING, STREAMING, STANDBY, RECONNECTING, DRAINING, STOPPED }

    /** How the loop ended: the exit code main should use and why. */
    public record Termination(int exitCode, String reason) {
    }

    private final ConsumerConfig config;
    private final SlotManager slots;
    private final CatalogQueries catalog;
    private final JetStreamPublisher publisher;
    private final ConsumerMetrics metrics;
    private final Clock clock;
    private final Backoff backoff;
    private final DoubleSupplier random;
    private final Duration standbyRetry;
    private final TypeRegistry types;
    private final PgOutputDecoder decoder = new PgOutputDecoder();
    private final ChangeEncoder encoder = new ChangeEncoder(new ValueDecoder());
    private final TableFilter tableFilter;
    private final OperationFilter operationFilter;

    private final CountDownLatch stopSignal = new CountDownLatch(1);
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile boolean stopping;
    private volatile State state = State.STARTING;
    private volatile String problem = "starting";
    private volatile Termination termination;
    private volatile Lsn confirmed = Lsn.ZERO;

    public ReplicationLoop(ConsumerConfig config, SlotManager slots, CatalogQueries catalog, JetStreamPublisher publisher,
                           ConsumerMetrics metrics, Clock clock, Backoff backoff, DoubleSupplier random, Duration standbyRetry) {
        this.config = config;
        this.slots = slots;
        this.catalog = catalog;
        this.publisher = publisher;
        this.metrics = metrics;
        this.clock = clock;
        this.backoff = backoff;
        this.random = random;
        this.standbyRetry = standbyRetry;
        this.types = new TypeRegistry(catalog);
        this.tableFilter = new TableFilter(config.tables());
        this.operationFilter = new OperationFilter(config.operations());
    }

    @Override
    public void run() {
        MDC.put("slot", config.slot());
        try {
            termination = loop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            termination = new Termination(1, "interrupted");
        } catch (RuntimeException | Error e) {
            LOG.error("replication stopped by an unexpected error", e);
            termination = new Termination(1, "unexpected error: " + e);
        } finally {
            state = State.STOPPED;
            problem = "stopped";
            MDC.clear();
            done.countDown();
        }
    }

    private Termination loop() throws InterruptedException {
        int failures = 0;
        boolean standbyLogged = false;
        while (!stopping) {
            Session session = null;
            boolean natsStep = false;
            long sessionStart = clock.millis();
            try {
                if (!publisher.healthy()) {
                    natsStep = true;
                    publisher.connect();
                    natsStep = false;
                }
                Lsn start = slots.ensure();
                session = open();
                if (state == State.STANDBY) {
                    LOG.info("replication slot {} is free: this instance takes over", config.slot());
                }
                metrics.standby(false);
                standbyLogged = false;
                state = State.STREAMING;
                problem = null;
                LOG.info("streaming from slot {} (publication {}, confirmed LSN {})", config.slot(), config.publication(), start);
                stream(session, start);
                return new Termination(0, "stopped");
            } catch (SQLException e) {
                if (OBJECT_IN_USE.equals(sqlState(e))) {
                    if (!standbyLogged) {
                        LOG.info("replication slot {} is active in another instance ({}); this instance is on standby and"
                                + " retries every {} ms", config.slot(), e.getMessage(), standbyRetry.toMillis());
                        standbyLogged = true;
                    }
                    state = State.STANDBY;
                    problem = "standby: replication slot " + config.slot() + " is held by another instance";
                    metrics.standby(true);
                    closeQuietly(session);
                    session = null;
                    waitForStop(standbyRetry);
                    continue;
                }
                if (stopping) {
                    return new Termination(1, "stopped without a clean drain: " + e.getMessage());
                }
                Termination permanent = permanent(e);
                if (permanent != null) {
                    return permanent;
                }
                failures = failed(failures, sessionStart, false, e);
                if (failures < 0) {
                    return new Termination(3, "PostgreSQL still unavailable after retries: " + e.getMessage());
                }
            } catch (SetupException e) {
                return new Termination(e.exitCode(), e.getMessage());
            } catch (ProtocolException e) {
                return new Termination(4, e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Termination(1, "interrupted before a clean drain");
            } catch (Exception e) {
                if (stopping) {
                    return new Termination(1, "stopped without a clean drain: " + e.getMessage());
                }
                boolean nats = natsStep || e instanceof PublishFailedException || isNats(e);
                failures = failed(failures, sessionStart, nats, e);
                if (failures < 0) {
                    return new Termination(3, (nats ? "NATS" : "PostgreSQL") + " still unavailable after retries: " + e.getMessage());
                }
            } finally {
                closeQuietly(session);
            }
            Duration delay = backoff.delay(failures, random.getAsDouble());
            waitForStop(delay);
        }
        return new Termination(0, "stopped");
    }

    /** @return the new failure count, or -1 when the attempts are used up */
    private int failed(int failures, long sessionStart, boolean nats, Exception e) throws InterruptedException {
        int count = clock.millis() - sessionStart >= HEALTHY_SESSION.toMillis() ? 1 : failures + 1;
        metrics.reconnect(nats);
        state = State.RECONNECTING;
        problem = (nats ? "NATS" : "PostgreSQL") + " unavailable: " + e.getMessage();
        if (nats || !publisher.healthy()) {
            publisher.disconnect();
        }
        if (!backoff.attemptsLeft(count)) {
            return -1;
        }
        LOG.warn("{} failed: {}; reconnecting (attempt {})", nats ? "NATS" : "PostgreSQL", e.toString(), count);
        return count;
    }

    private static boolean isNats(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof io.nats.client.JetStreamApiException || t.getClass().getName().startsWith("io.nats.")) {
                return true;
            }
        }
        return false;
    }

    /** Errors retrying cannot fix: authentication, a missing database. */
    private static Termination permanent(SQLException e) {
        String state = sqlState(e);
        if (state == null) {
            return null;
        }
        if (state.startsWith("28")) {
            return new Termination(3, "PostgreSQL refused the login: " + e.getMessage());
        }
        if (state.equals("3D000")) {
            return new Termination(2, "POSTGRES_INPUT_DATABASE names a database that does not exist: " + e.getMessage());
        }
        return null;
    }

    static String sqlState(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null) {
                return s.getSQLState();
            }
        }
        return null;
    }

    /** The replication connection and its stream. */
    private static final class Session implements AutoCloseable {
        final Connection connection;
        final PGReplicationStream stream;
        Lsn confirmed;
        long lastStatus;

        Session(Connection connection, PGReplicationStream stream) {
            this.connection = connection;
            this.stream = stream;
        }

        @Override
        public void close() throws SQLException {
            try {
                if (!stream.isClosed()) {
                    stream.close();
                }
            } finally {
                connection.close();
            }
        }
    }

    private Session open() throws SQLException {
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
        Connection connection = new org.postgresql.Driver().connect(config.jdbcUrl(), props);
        if (connection == null) {
            throw new SQLException("PgJDBC did not accept " + config.jdbcUrl(), "08001");
        }
        try {
            PGReplicationStream stream = connection.unwrap(PGConnection.class).getReplicationAPI()
                    .replicationStream()
                    .logical()
                    .withSlotName(config.slot())
                    .withSlotOption("proto_version", 1)
                    .withSlotOption("publication_names", config.publication())
                    .withStatusInterval((int) STATUS_INTERVAL.toMillis(), TimeUnit.MILLISECONDS)
                    .withAutomaticFlush(false)
                    .start();
            return new Session(connection, stream);
        } catch (SQLException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    private void stream(Session session, Lsn start) throws Exception {
        LsnTracker tracker = new LsnTracker(start);
        session.confirmed = start;
        session.lastStatus = System.nanoTime();
        confirmed = start;
        metrics.confirmed(start);
        publisher.startSession(tracker, () -> statusTick(session, tracker));
        MessageBatcher batcher = new MessageBatcher(config.batchSize(), config.batchTimeout(), publisher.maxChangeBytes(),
                clock, publisher, publisher);
        // the previous session's messages must all be stored before its newest one is looked at
        if (!publisher.awaitAcks(DRAIN_TIMEOUT)) {
            throw new PublishFailedException("JetStream did not acknowledge the previous session's messages within "
                    + DRAIN_TIMEOUT.toSeconds() + " s", null);
        }
        publisher.unfinishedTransaction().ifPresent(published -> {
            LOG.info("the transaction committed at {} was left half published ({} chunk(s), {} change(s)); it goes on after"
                    + " them when read again", published.commitLsn(), published.sizes().size(), published.changes());
            batcher.resume(published);
        });
        TransactionAssembler assembler = new TransactionAssembler(decoder, new RelationCache(types, catalog), tableFilter,
                operationFilter, encoder, batcher, publisher);
        PGReplicationStream stream = session.stream;
        long received = 0;
        try {
            while (true) {
                if (stopping) {
                    drain(session, tracker, batcher);
                    return;
                }
                publisher.checkHealthy();
                ByteBuffer buffer = stream.readPending();
                if (buffer != null) {
                    assembler.accept(buffer, new Lsn(stream.getLastReceiveLSN().asLong()));
                    batcher.flushIfDue();
                    if ((++received & 1023) == 0) {
                        confirm(session, tracker);
                    }
                } else {
                    batcher.flush();
                    if (!assembler.inTransaction() && batcher.isEmpty() && tracker.isIdle()) {
                        // nothing held, nothing in flight: everything up to the server's WAL end is done
                        tracker.passThrough(new Lsn(stream.getLastReceiveLSN().asLong()));
                    }
                    confirm(session, tracker);
                    waitForStop(IDLE_POLL);
                }
            }
        } finally {
            assembler.reset();
        }
    }

    private void confirm(Session session, LsnTracker tracker) {
        PGReplicationStream stream = session.stream;
        metrics.received(new Lsn(stream.getLastReceiveLSN().asLong()));
        Lsn c = tracker.confirmable();
        if (c.isAfter(session.confirmed)) {
            LogSequenceNumber lsn = LogSequenceNumber.valueOf(c.value());
            stream.setFlushedLSN(lsn);
            stream.setAppliedLSN(lsn);
            session.confirmed = c;
            confirmed = c;
            metrics.confirmed(c);
            LOG.debug("confirmed LSN {}", c);
        }
    }

    /** Runs while publish waits for acks: keep confirming and keep the server from timing us out. */
    private void statusTick(Session session, LsnTracker tracker) throws SQLException {
        confirm(session, tracker);
        long now = System.nanoTime();
        if (now - session.lastStatus >= STATUS_INTERVAL.toNanos()) {
            session.stream.forceUpdateStatus();
            session.lastStatus = now;
        }
    }

    private void drain(Session session, LsnTracker tracker, MessageBatcher batcher) throws Exception {
        state = State.DRAINING;
        problem = "draining";
        LOG.info("draining: publishing what was read and waiting for JetStream's acks");
        batcher.abortTransaction();
        batcher.flush();
        boolean acked = publisher.awaitAcks(DRAIN_TIMEOUT);
        confirm(session, tracker);
        session.stream.forceUpdateStatus();
        if (!acked) {
            throw new PublishFailedException("JetStream did not acknowledge everything within " + DRAIN_TIMEOUT.toSeconds() + " s", null);
        }
        LOG.info("drained; confirmed LSN {}", session.confirmed);
    }

    private void waitForStop(Duration d) throws InterruptedException {
        if (!stopping) {
            stopSignal.await(d.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    private static void closeQuietly(Session session) {
        if (session != null) {
            try {
                session.close();
            } catch (SQLException | RuntimeException e) {
                LOG.debug("closing the replication connection: {}", e.toString());
            }
        }
    }

    /** Asks the loop to drain and stop; returns at once. */
    public void requestStop() {
        stopping = true;
        stopSignal.countDown();
    }

    public boolean awaitDone(Duration timeout) throws InterruptedException {
        return done.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Null while running. */
    public Termination termination() {
        return termination;
    }

    public State state() {
        return state;
    }

    public Lsn confirmedLsn() {
        return confirmed;
    }

    /** Empty while streaming, else why not (for /health/ready). */
    public Optional<String> problem() {
        String p = problem;
        return state == State.STREAMING ? Optional.empty() : Optional.of(p == null ? state.name().toLowerCase() : p);
    }
}
