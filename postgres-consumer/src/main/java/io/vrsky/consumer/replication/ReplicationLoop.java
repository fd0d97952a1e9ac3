package io.vrsky.consumer.replication;

import io.vrsky.consumer.ConsumerConfig;
import io.vrsky.consumer.ConsumerMetrics;
import io.vrsky.consumer.encode.TypeRegistry;
import io.vrsky.consumer.publish.JetStreamPublisher;
import io.vrsky.consumer.publish.PublishFailedException;
import io.vrsky.consumer.snapshot.Snapshots;
import io.vrsky.consumer.tx.ProtocolException;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.nats.JetStreamErrors;
import io.vrsky.core.pg.PgErrors;
import io.vrsky.core.retry.Backoff;
import io.vrsky.core.retry.DependencyRetry;
import io.vrsky.core.retry.Sleeper;
import io.vrsky.core.service.ExitCode;
import io.vrsky.core.service.ServiceFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

/**
 * The supervisor of the replication thread: runs one {@link ReplicationSession} after another.
 * Before each it connects to NATS when needed and sets up the slot ({@link SlotManager}); any
 * failure ends the session, and the next one resumes from the slot's confirmed position after an
 * exponential backoff. An unreachable PostgreSQL or NATS is retried for DEPENDENCY_RETRY_TIMEOUT
 * ({@link DependencyRetry}: readiness names the target and the last error, at most one WARN per
 * 30 s), then the thread ends with exit code 3; so does a refusal (login, database, privilege, a
 * set-up check). A slot held by another instance (SQLState 55006) puts this instance on
 * standby until the slot is free. It decides how the thread ends ({@link Termination}: the exit
 * code main uses) and keeps the state readiness reports.
 *
 * <p>Threads: the replication thread runs {@link #run()}; any other thread (main, the shutdown
 * hook, the health server) may call {@link #requestStop()}, {@link #awaitDone}, {@link #state()},
 * {@link #problem()}, {@link #confirmedLsn()} and {@link #termination()}.
 */
public final class ReplicationLoop implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(ReplicationLoop.class);
    private static final String OBJECT_IN_USE = "55006"; // OBJECT IN USE: the slot is active for another walsender
    /** A dependency that worked this long after a failure counts as recovered: its outage and backoff start over. */
    private static final Duration HEALTHY_SESSION = Duration.ofSeconds(30);

    /** What the loop is doing, for /health/ready. */
    public enum State { STARTING, STREAMING, STANDBY, RECONNECTING, DRAINING, STOPPED }

    /** How the loop ended: the exit code main should use and why. */
    public record Termination(int exitCode, String reason) {
        static Termination of(ExitCode code, String reason) {
            return new Termination(code.code(), reason);
        }
    }

    private final ConsumerConfig config;
    private final SlotManager slots;
    private final CatalogQueries catalog;
    private final JetStreamPublisher publisher;
    private final ConsumerMetrics metrics;
    private final Clock clock;
    private final DependencyRetry postgres;
    private final DependencyRetry nats;
    /** When each dependency last failed (replication thread only). */
    private final Map<DependencyRetry, Long> lastFailure = new IdentityHashMap<>();
    private final Duration standbyRetry;
    private final TypeRegistry types;
    private final Snapshots snapshots;

    private final StopSignal stop = new StopSignal();
    private final CountDownLatch done = new CountDownLatch(1);
    private State state = State.STARTING;
    private String problem = "starting";
    private volatile Termination termination;
    private volatile ReplicationSession current;
    private volatile Lsn confirmed = Lsn.ZERO;

    public ReplicationLoop(ConsumerConfig config, SlotManager slots, CatalogQueries catalog, JetStreamPublisher publisher,
                           ConsumerMetrics metrics, Clock clock, Backoff backoff, DoubleSupplier random, Duration standbyRetry,
                           TypeRegistry types, Snapshots snapshots) {
        this.config = config;
        this.slots = slots;
        this.catalog = catalog;
        this.publisher = publisher;
        this.metrics = metrics;
        this.clock = clock;
        // waits happen in the loop (a stop request cuts them short), never inside DependencyRetry
        Sleeper unused = d -> {
            throw new IllegalStateException("the loop waits itself");
        };
        this.postgres = new DependencyRetry(config.postgres().target(), config.dependencyRetryTimeout(), backoff, clock, unused,
                random, LOG);
        this.nats = new DependencyRetry(config.nats().target(), config.dependencyRetryTimeout(), backoff, clock, unused, random, LOG);
        this.standbyRetry = standbyRetry;
        this.types = types;
        this.snapshots = snapshots;
    }

    @Override
    public void run() {
        MDC.put("slot", config.slot());
        try {
            termination = loop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            termination = Termination.of(ExitCode.UNEXPECTED, "interrupted");
        } catch (RuntimeException | Error e) {
            LOG.error("replication stopped by an unexpected error", e);
            termination = Termination.of(ExitCode.UNEXPECTED, "unexpected error: " + e);
        } finally {
            state(State.STOPPED, "stopped");
            MDC.clear();
            done.countDown();
        }
    }

    private Termination loop() throws InterruptedException {
        boolean standbyLogged = false;
        while (!stop.requested()) {
            ReplicationSession session = null;
            boolean natsStep = false;
            long sessionStart = -1;
            try {
                if (!publisher.healthy()) {
                    natsStep = true;
                    publisher.connect();
                    natsStep = false;
                }
                Lsn start = slots.ensure(new SlotManager.Stream(config.nats().stream(), config.nats().subject(), publisher::slotHasPublished));
                session = ReplicationSession.open(config, publisher, metrics, clock, stop, catalog, types, snapshots, start == null);
                if (start == null) {
                    start = session.createdAt();
                }
                current = session;
                sessionStart = clock.millis();
                reachable(postgres, sessionStart);
                reachable(nats, sessionStart);
                if (state() == State.STANDBY) {
                    LOG.info("replication slot {} is free: this instance takes over", config.slot());
                }
                metrics.standby(false);
                standbyLogged = false;
                streaming();
                LOG.info("streaming from slot {} (publication {}, confirmed LSN {})", config.slot(), config.publication(), start);
                session.run(start);
                return Termination.of(ExitCode.CLEAN, "stopped");
            } catch (SQLException e) {
                if (OBJECT_IN_USE.equals(PgErrors.sqlState(e))) {
                    if (!standbyLogged) {
                        LOG.info("replication slot {} is active in another instance ({}); this instance is on standby and"
                                + " retries every {} ms", config.slot(), PgErrors.serverMessage(e), standbyRetry.toMillis());
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
                    return Termination.of(ExitCode.UNEXPECTED, "stopped without a clean drain: " + PgErrors.serverMessage(e));
                }
                if (PgErrors.isPermanent(e)) { // a refused login, a missing database or privilege: retrying cannot help
                    return Termination.of(ExitCode.DEPENDENCY, postgres.target() + " refused us: " + PgErrors.serverMessage(e));
                }
                try {
                    stop.await(failed(postgres, sessionStart, e, e));
                } catch (ServiceFailure outlasted) {
                    return Termination.of(outlasted.exitCode(), outlasted.getMessage());
                }
            } catch (ServiceFailure e) { // a set-up refusal (SetupException) or an outage past DEPENDENCY_RETRY_TIMEOUT
                return Termination.of(e.exitCode(), e.getMessage());
            } catch (ProtocolException e) {
                return Termination.of(ExitCode.DATA, e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Termination.of(ExitCode.UNEXPECTED, "interrupted before a clean drain");
            } catch (Exception e) {
                if (stop.requested()) {
                    return Termination.of(ExitCode.UNEXPECTED, "stopped without a clean drain: " + e.getMessage());
                }
                boolean onNats = natsStep || e instanceof PublishFailedException || isNats(e);
                try {
                    stop.await(onNats ? failed(nats, sessionStart, e, new PublishFailedException(publisher.describeFailure(e), e))
                            : failed(postgres, sessionStart, e, e));
                } catch (ServiceFailure outlasted) {
                    return Termination.of(outlasted.exitCode(), outlasted.getMessage());
                }
            } finally {
                if (session != null) {
                    confirmed = session.confirmed();
                }
                current = null;
                closeQuietly(session);
            }
        }
        return Termination.of(ExitCode.CLEAN, "stopped");
    }

    /**
     * {@code dependency} worked at {@code now} (the session started). An outage ends when it has
     * not failed for {@link #HEALTHY_SESSION}: one that fails again soon after starting keeps its
     * outage (and its backoff) going, so a flapping dependency is not retried as if new each time.
     */
    private void reachable(DependencyRetry dependency, long now) {
        Long last = lastFailure.get(dependency);
        if (last == null || now - last >= HEALTHY_SESSION.toMillis()) {
            dependency.succeeded();
        }
    }

    /**
     * A failed session: records the failure of {@code dependency} (a session that had streamed for
     * {@link #HEALTHY_SESSION} ends the outage before, so this starts a new one), says why in
     * readiness, drops the NATS connection when it failed, and says how long to wait.
     *
     * @param described what readiness and the log say about it
     * @throws ServiceFailure exit 3 when the outage lasted DEPENDENCY_RETRY_TIMEOUT
     */
    private Duration failed(DependencyRetry dependency, long sessionStart, Exception e, Exception described)
            throws ServiceFailure, InterruptedException {
        long now = clock.millis();
        if (sessionStart >= 0 && now - sessionStart >= HEALTHY_SESSION.toMillis()) {
            dependency.succeeded();
        }
        lastFailure.put(dependency, now);
        boolean onNats = dependency == nats;
        metrics.reconnect(onNats);
        if (onNats || !publisher.healthy()) {
            publisher.disconnect();
        }
        Duration wait = dependency.failed(described);
        state(State.RECONNECTING, onNats && JetStreamErrors.isStreamFull(e) ? described.getMessage()
                : dependency.problem().orElse(dependency.target() + " unreachable"));
        return wait;
    }

    private static boolean isNats(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof io.nats.client.JetStreamApiException || t.getClass().getName().startsWith("io.nats.")) {
                return true;
            }
        }
        return false;
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
