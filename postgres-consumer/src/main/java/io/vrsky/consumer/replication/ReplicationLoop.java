package io.vrsky.consumer.replication;

import io.vrsky.consumer.ConsumerConfig;
import io.vrsky.consumer.ConsumerMetrics;
import io.vrsky.consumer.encode.TypeRegistry;
import io.vrsky.consumer.publish.JetStreamPublisher;
import io.vrsky.consumer.publish.PublishFailedException;
import io.vrsky.consumer.tx.ProtocolException;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.retry.Backoff;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

/**
 * The supervisor of the replication thread: runs one {@link ReplicationSession} after another.
 * Before each it connects to NATS when needed and sets up the slot ({@link SlotManager}); any
 * failure ends the session, and the next one resumes from the slot's confirmed position after an
 * exponential backoff. A slot held by another instance (SQLState 55006) puts this instance on
 * standby until the slot is free. It decides how the thread ends ({@link Termination}: the exit
 * code main uses) and keeps the state readiness reports.
 *
 * <p>Threads: the replication thread runs {@link #run()}; any other thread (main, the shutdown
 * hook, the health server) may call {@link #requestStop()}, {@link #awaitDone}, {@link #state()},
 * {@link #problem()}, {@link #confirmedLsn()} and {@link #termination()}.
 */
public final class ReplicationLoop implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(ReplicationLoop.class);
    private static final String OBJECT_IN_USE = "55006";
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

    private final StopSignal stop = new StopSignal();
    private final CountDownLatch done = new CountDownLatch(1);
    private State state = State.STARTING;
    private String problem = "starting";
    private volatile Termination termination;
    private volatile ReplicationSession current;
    private volatile Lsn confirmed = Lsn.ZERO;
    /** What the last failed session failed on (replication thread only). */
    private String lastFailure;

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
            state(State.STOPPED, "stopped");
            MDC.clear();
            done.countDown();
        }
    }

    private Termination loop() throws InterruptedException {
        int failures = 0;
        boolean standbyLogged = false;
        while (!stop.requested()) {
            ReplicationSession session = null;
            boolean natsStep = false;
            long sessionStart = clock.millis();
            try {
                if (!publisher.healthy()) {
                    natsStep = true;
                    publisher.connect();
                    natsStep = false;
                }
                Lsn start = slots.ensure(new SlotManager.Stream(config.nats().stream(), config.nats().subject(), publisher::slotHasPublished));
                session = ReplicationSession.open(config, publisher, metrics, clock, stop, catalog, types);
                current = session;
                if (state() == State.STANDBY) {
                    LOG.info("replication slot {} is free: this instance takes over", config.slot());
                }
                metrics.standby(false);
                standbyLogged = false;
                streaming();
                LOG.info("streaming from slot {} (publication {}, confirmed LSN {})", config.slot(), config.publication(), start);
                session.run(start);
                return new Termination(0, "stopped");
            } catch (SQLException e) {
                if (OBJECT_IN_USE.equals(sqlState(e))) {
                    if (!standbyLogged) {
                        LOG.info("replication slot {} is active in another instance ({}); this instance is on standby and"
                                + " retries every {} ms", config.slot(), e.getMessage(), standbyRetry.toMillis());
                        standbyLogged = true;
                    }
                    state(State.STANDBY, "standby: replication slot " + config.slot() + " is held by another instance");
                    metrics.standby(true);
                    closeQuietly(session);
                    session = null;
                    stop.await(standbyRetry);
                    continue;
                }
                if (stop.requested()) {
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
                if (stop.requested()) {
                    return new Termination(1, "stopped without a clean drain: " + e.getMessage());
                }
                boolean nats = natsStep || e instanceof PublishFailedException || isNats(e);
                failures = failed(failures, sessionStart, nats, e);
                if (failures < 0) {
                    return new Termination(3, (nats ? "NATS" : "PostgreSQL") + " still unavailable after retries: " + lastFailure);
                }
            } finally {
                if (session != null) {
                    confirmed = session.confirmed();
                }
                current = null;
                closeQuietly(session);
            }
            Duration delay = backoff.delay(failures, random.getAsDouble());
            stop.await(delay);
        }
        return new Termination(0, "stopped");
    }

    /** @return the new failure count, or -1 when the attempts are used up */
    private int failed(int failures, long sessionStart, boolean nats, Exception e) throws InterruptedException {
        int count = clock.millis() - sessionStart >= HEALTHY_SESSION.toMillis() ? 1 : failures + 1;
        metrics.reconnect(nats);
        lastFailure = nats ? publisher.describeFailure(e) : e.getMessage();
        String why = nats && JetStreamPublisher.streamFull(e) ? lastFailure
                : (nats ? "NATS" : "PostgreSQL") + " unavailable: " + lastFailure;
        state(State.RECONNECTING, why);
        if (nats || !publisher.healthy()) {
            publisher.disconnect();
        }
        if (!backoff.attemptsLeft(count)) {
            return -1;
        }
        LOG.warn("{} failed: {}; reconnecting (attempt {})", nats ? "NATS" : "PostgreSQL", nats ? why : e.toString(), count);
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

    private static void closeQuietly(ReplicationSession session) {
        if (session != null) {
            try {
                session.close();
            } catch (SQLException | RuntimeException e) {
                LOG.debug("closing the replication connection: {}", e.toString());
            }
        }
    }

    private synchronized void state(State s, String why) {
        state = s;
        problem = why;
    }

    /** The session started streaming, unless a stop came first (then it is draining). */
    private synchronized void streaming() {
        if (stop.requested()) {
            state = State.DRAINING;
            problem = "draining";
        } else {
            state = State.STREAMING;
            problem = null;
        }
    }

    /** Asks the loop to drain and stop; returns at once. */
    public void requestStop() {
        synchronized (this) {
            if (state == State.STREAMING) {
                state = State.DRAINING;
                problem = "draining";
            }
        }
        stop.request();
    }

    public boolean awaitDone(Duration timeout) throws InterruptedException {
        return done.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Null while running. */
    public Termination termination() {
        return termination;
    }

    public synchronized State state() {
        return state;
    }

    /** The last position confirmed to PostgreSQL. */
    public Lsn confirmedLsn() {
        ReplicationSession s = current;
        return s != null ? s.confirmed() : confirmed;
    }

    /** Empty while streaming, else why not (for /health/ready). */
    public synchronized Optional<String> problem() {
        return state == State.STREAMING ? Optional.empty() : Optional.of(problem == null ? state.name().toLowerCase() : problem);
    }
}
